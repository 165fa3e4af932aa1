// The query model of the campaignpulse datasource. Every list below mirrors
// a Go constant in aggregator/metricdoc (query.go, metric.go, measures.go); the Go test in
// provisioning/ compares them, so a type added on one side only fails CI.
import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

/** metricdoc.QueryTypes */
export const QUERY_TYPES = ['metrics', 'lag', 'freshness', 'variables', 'storage'] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

/** The names of metricdoc.MeasureTable, in table order (the first is the default). */
export const MEASURES = ['installs', 'events', 'revenue', 'revenue_usd'] as const;
export type Measure = (typeof MEASURES)[number];

/**
 * The titles of metricdoc.MeasureTable. Keyed by Measure, so a measure
 * without a title does not compile; the Go test compares both with the table.
 */
export const MEASURE_TITLES: Record<Measure, string> = {
  installs: 'Installs',
  events: 'In-app events',
  revenue: 'Revenue',
  revenue_usd: 'Revenue (USD)',
};

/** metricdoc.MeasureLag* of a lag query; empty means both columns */
export const LAG_MEASURES = ['lag_records', 'lag_seconds'] as const;
export type LagMeasure = (typeof LAG_MEASURES)[number];

/** metricdoc.Format* */
export const FORMATS = ['time_series', 'time_series_long', 'table'] as const;
export type Format = (typeof FORMATS)[number];

/** metricdoc.GranularityAuto, metricdoc.Hour, metricdoc.Day */
export const GRANULARITIES = ['auto', 'hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** metricdoc.Dimensions, in canonical order */
export const DIMENSIONS = ['app_id', 'media_source', 'campaign', 'platform', 'event_name', 'currency'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Dimensions a freshness query may filter by. */
export const FRESHNESS_FILTERS = ['app_id'] as const;

/**
 * One query of the datasource: the JSON of metricdoc.Query plus Grafana's
 * own target fields (refId, hide, datasource, key, queryType).
 */
export interface CampaignPulseQuery extends DataQuery {
  queryType?: QueryType;

  // metrics (measure is also the column choice of a lag query)
  measure?: Measure | LagMeasure;
  granularity?: Granularity | string;
  filters?: Partial<Record<Dimension, string[]>>;
  groupBy?: Dimension[];
  topN?: number;
  cumulative?: boolean;
  format?: Format;
  /** Answer over Grafana Live from the backend's stream instead of one query. */
  live?: boolean;

  // lag
  consumerGroup?: string;
  topic?: string;

  // variables
  dimension?: Dimension | string;
}

/** Per-type defaults the editors start from. */
export const DEFAULT_QUERIES: { [K in QueryType]: Omit<CampaignPulseQuery, 'refId'> } = {
  metrics: { queryType: 'metrics', measure: 'installs', granularity: 'auto', format: 'time_series' },
  lag: { queryType: 'lag' },
  freshness: { queryType: 'freshness' },
  variables: { queryType: 'variables', dimension: 'app_id' },
  storage: { queryType: 'storage' },
};

/** Grafana's value for "All" of a multi-value variable; the backend drops the filter. */
export const ALL_VALUE = '$__all';

/**
 * The datasource's jsonData: everything the backend needs to connect
 * (grafana-plugin/pkg/plugin/settings.go Settings; the backend rejects
 * unknown keys, so nothing else may be written here).
 */
export interface CampaignPulseOptions extends DataSourceJsonData {
  mongoDatabase?: string;
  mongoUsername?: string;
  mongoAuthSource?: string;
  mongoTls?: boolean;
  mongoTlsCaCert?: string;
  mongoTlsSkipVerify?: boolean;
  mongoMaxTimeMs?: number;
  kafkaBrokers?: string;
  kafkaConsumerGroup?: string;
  kafkaSaslMechanism?: string;
  kafkaSaslUsername?: string;
  kafkaTls?: boolean;
  kafkaTlsCaCert?: string;
  kafkaTlsSkipVerify?: boolean;
  timeZone?: string;
}

/** The datasource's secureJsonData (write-only from the browser). */
export interface CampaignPulseSecureOptions {
  mongoUri?: string;
  mongoPassword?: string;
  kafkaSaslPassword?: string;
}

/** SASL mechanisms the backend accepts; empty means no SASL. */
export const SASL_MECHANISMS = ['', 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
