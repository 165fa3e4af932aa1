import {
  CoreApp,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceInstanceSettings,
  LiveChannelScope,
  ScopedVars,
  StreamingFrameAction,
} from '@grafana/data';
import { DataSourceWithBackend, getGrafanaLiveSrv, getTemplateSrv, TemplateSrv } from '@grafana/runtime';
import { merge, Observable } from 'rxjs';

import { ALL_VALUE, CampaignPulseOptions, CampaignPulseQuery, DEFAULT_QUERIES, Dimension } from './types';
import { VariableSupport } from './variables';

/** Rows a live panel keeps at most, per query. */
const LIVE_MAX_ROWS = 10000;

/**
 * The campaignpulse datasource. Panel, Explore and variable queries go to the
 * Go backend through /api/ds/query; live metrics queries subscribe to the
 * backend's stream over Grafana Live instead. Time macros ($__from, ...) are
 * left for the backend, which expands them for alert rules too; only
 * dashboard template variables are interpolated here.
 */
export class DataSource extends DataSourceWithBackend<CampaignPulseQuery, CampaignPulseOptions> {
  constructor(
    instanceSettings: DataSourceInstanceSettings<CampaignPulseOptions>,
    private readonly templateSrv: TemplateSrv = getTemplateSrv()
  ) {
    super(instanceSettings);
    this.variables = new VariableSupport(this);
  }

  getDefaultQuery(_app: CoreApp): Partial<CampaignPulseQuery> {
    return DEFAULT_QUERIES.metrics;
  }

  filterQuery(query: CampaignPulseQuery): boolean {
    return !query.hide;
  }

  /** Interpolates dashboard variables; multi-value variables become value lists. */
  applyTemplateVariables(query: CampaignPulseQuery, scopedVars: ScopedVars): CampaignPulseQuery {
    const out: CampaignPulseQuery = { ...query };
    const text = (s: string) => this.templateSrv.replace(s, scopedVars);
    if (query.filters) {
      const filters: CampaignPulseQuery['filters'] = {};
      for (const [dim, values] of Object.entries(query.filters)) {
        filters[dim as Dimension] = (values ?? []).flatMap((v) => this.expandValues(v, scopedVars));
      }
      out.filters = filters;
    }
    if (query.groupBy) {
      out.groupBy = query.groupBy.map((d) => text(d) as Dimension);
    }
    for (const key of ['granularity', 'consumerGroup', 'topic', 'dimension'] as const) {
      const v = query[key];
      if (typeof v === 'string' && v !== '') {
        out[key] = text(v);
      }
    }
    return out;
  }

  /** "Open in Explore" and query history carry the interpolated queries. */
  interpolateVariablesInQueries(queries: CampaignPulseQuery[], scopedVars: ScopedVars): CampaignPulseQuery[] {
    return queries.map((q) => ({ ...this.applyTemplateVariables(q, scopedVars), datasource: this.getRef() }));
  }

  /** A one-line summary for query history and the alert rule list. */
  getQueryDisplayText(q: CampaignPulseQuery): string {
    const type = q.queryType ?? 'metrics';
    const filters = Object.entries(q.filters ?? {})
      .map(([d, v]) => `${d}=${(v ?? []).join('|')}`)
      .join(' ');
    switch (type) {
      case 'metrics':
        return [
          q.measure ?? 'installs',
          q.granularity && q.granularity !== 'auto' ? `per ${q.granularity}` : '',
          q.groupBy?.length ? `by ${q.groupBy.join(', ')}` : '',
          q.topN ? `top ${q.topN}` : '',
          q.cumulative ? 'cumulative' : '',
          filters,
          q.live ? '(live)' : '',
        ]
          .filter(Boolean)
          .join(' ');
      case 'lag':
        return `lag ${q.measure ?? 'records+seconds'} of ${q.consumerGroup ?? 'default group'} on ${q.topic ?? 'raw_events'}`;
      case 'freshness':
        return ['freshness', filters].filter(Boolean).join(' ');
      case 'variables':
        return ['values of', q.dimension ?? 'app_id', filters].filter(Boolean).join(' ');
      case 'storage':
        return 'storage of every collection';
    }
  }

  /**
   * Renders one filter value. A value that is exactly a multi-value variable
   * yields its selected values; "All" with the custom all value yields
   * "$__all", which the backend reads as "no filter".
   */
  private expandValues(value: string, scopedVars: ScopedVars): string[] {
    if (!value.includes('$') && !value.includes('[[')) {
      return [value];
    }
    const rendered = this.templateSrv.replace(value, scopedVars, (v: string | string[]) =>
      JSON.stringify(Array.isArray(v) ? v : [v])
    );
    if (rendered.startsWith('[') && rendered.endsWith(']')) {
      try {
        const list: unknown = JSON.parse(rendered);
        if (Array.isArray(list) && list.every((x) => typeof x === 'string')) {
          return list;
        }
      } catch {
        // Not a single variable: keep the text as rendered.
      }
    }
    return [rendered];
  }

  query(request: DataQueryRequest<CampaignPulseQuery>): Observable<DataQueryResponse> {
    const targets = request.targets.filter((t) => this.filterQuery(t));
    const live = targets.filter(isLive);
    if (live.length === 0) {
      return super.query({ ...request, targets });
    }
    const rest = targets.filter((t) => !isLive(t));
    const streams = live.map((t) => this.stream(t, request));
    if (rest.length === 0) {
      return merge(...streams);
    }
    return merge(super.query({ ...request, targets: rest }), ...streams);
  }

  /** Subscribes to the backend stream of one live metrics query. */
  private stream(target: CampaignPulseQuery, request: DataQueryRequest<CampaignPulseQuery>): Observable<DataQueryResponse> {
    const query = this.applyTemplateVariables(target, request.scopedVars);
    const { refId, datasource, hide, key, ...rest } = query;
    const model = withoutAllFilters(rest);
    const rangeMs = request.range.to.valueOf() - request.range.from.valueOf();
    return getGrafanaLiveSrv().getDataStream({
      key: `${request.requestId}-${refId}`,
      addr: {
        scope: LiveChannelScope.DataSource,
        stream: this.uid,
        path: streamPath(model, rangeMs / 1000, this.uid),
        data: model,
      },
      buffer: {
        maxLength: LIVE_MAX_ROWS,
        maxDelta: rangeMs,
        action: StreamingFrameAction.Replace,
      },
    });
  }
}

/** A metrics query marked live is answered by the backend's stream. */
export function isLive(q: CampaignPulseQuery): boolean {
  return q.live === true && (q.queryType ?? 'metrics') === 'metrics';
}

/** The longest range a stream may show (the backend's limit). */
const MAX_STREAM_SECONDS = 31 * 24 * 3600;

/**
 * Grafana Live (centrifuge) refuses channels longer than 255 characters; a
 * datasource channel is "ds/<uid>/<path>".
 */
const MAX_CHANNEL_LENGTH = 255;

/**
 * The Grafana Live channel path of a live query. Preferred is the backend's
 * form "metrics/<range seconds>/<base64url(query JSON)>" (pkg/plugin/stream.go
 * StreamPath): the stream shows the windows of the panel's range, panels with
 * equal queries share one backend stream, and different ones never do. Keys
 * are sorted so the path does not depend on property order; live paths allow
 * only [A-Za-z0-9_\-/=.], hence base64url without padding. A query too long
 * for a channel falls back to "metrics/<hash>", which the backend reads from
 * the subscription data and shows over its default span (24 h).
 */
export function streamPath(model: object, rangeSeconds: number, uid: string): string {
  const secs = Math.min(MAX_STREAM_SECONDS, Math.max(1, Math.round(rangeSeconds)));
  const json = canonicalJSON(model);
  const full = `metrics/${secs}/${base64url(json)}`;
  if (`ds/${uid}/${full}`.length <= MAX_CHANNEL_LENGTH) {
    return full;
  }
  return `metrics/${fnv1a(json)}${fnv1a(`${secs}:${json}`)}`;
}

/**
 * Drops filters whose values are only "All": they filter nothing, and
 * leaving them out keeps the channel path short.
 */
export function withoutAllFilters<T extends { filters?: CampaignPulseQuery['filters'] }>(q: T): T {
  if (!q.filters) {
    return q;
  }
  const filters = Object.fromEntries(
    Object.entries(q.filters).filter(([, values]) => !(values ?? []).every((v) => v === ALL_VALUE))
  );
  const out: T = { ...q, filters };
  if (Object.keys(filters).length === 0) {
    delete out.filters;
  }
  return out;
}

function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) {
    return `[${v.map(canonicalJSON).join(',')}]`;
  }
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJSON(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function base64url(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  bytes.forEach((b) => (bin += String.fromCharCode(b)));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
