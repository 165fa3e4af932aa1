import { DataQueryRequest, DataSourceInstanceSettings, dateTime, LiveChannelScope, ScopedVars } from '@grafana/data';
import { BackendSrv, GrafanaLiveSrv, setBackendSrv, setGrafanaLiveSrv, TemplateSrv } from '@grafana/runtime';
import { lastValueFrom, of } from 'rxjs';

import { DataSource, isLive, streamPath, withoutAllFilters } from './datasource';
import { CampaignPulseOptions, CampaignPulseQuery } from './types';

type Value = string | string[];

/**
 * A TemplateSrv with Grafana's rules for what this datasource relies on:
 * $name and ${name} are replaced, multi values go through the format
 * function, and "All" with a custom all value is returned raw.
 */
function templateSrv(vars: Record<string, Value>, customAll: Record<string, string> = {}): TemplateSrv {
  return {
    getVariables: () => [],
    containsTemplate: (t?: string) => !!t && /\$\w|\$\{/.test(t),
    updateTimeRange: () => {},
    replace: (target?: string, _scoped?: ScopedVars, format?: string | Function) =>
      (target ?? '').replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a, b) => {
        const name = a ?? b;
        if (customAll[name]) {
          return customAll[name];
        }
        const v = vars[name];
        if (v === undefined) {
          return m;
        }
        if (typeof format === 'function') {
          return format(v);
        }
        return Array.isArray(v) ? `{${v.join(',')}}` : v;
      }),
  } as unknown as TemplateSrv;
}

const settings = {
  id: 1,
  uid: 'campaignpulse',
  type: 'campaignpulse-metrics-datasource',
  name: 'campaignpulse',
  access: 'proxy',
  jsonData: {},
  meta: {},
  readOnly: false,
} as unknown as DataSourceInstanceSettings<CampaignPulseOptions>;

function request(targets: CampaignPulseQuery[]): DataQueryRequest<CampaignPulseQuery> {
  const to = dateTime('2026-11-26T12:00:00Z');
  const from = dateTime('2026-11-26T00:00:00Z');
  return {
    requestId: 'r1',
    interval: '1m',
    intervalMs: 60000,
    range: { from, to, raw: { from: 'now-12h', to: 'now' } },
    scopedVars: {},
    targets,
    timezone: 'utc',
    app: 'dashboard',
    startTime: 0,
  } as DataQueryRequest<CampaignPulseQuery>;
}

describe('applyTemplateVariables', () => {
  const ds = new DataSource(
    settings,
    templateSrv({ app_id: ['com.a', 'com.b'], source: 'facebook', group: 'agg-$env', env: 'prod', dim: 'campaign' }, { campaign: '$__all' })
  );

  it('turns a multi-value variable into its values', () => {
    const q = ds.applyTemplateVariables({ refId: 'A', filters: { app_id: ['$app_id', 'com.c'] } }, {});
    expect(q.filters).toEqual({ app_id: ['com.a', 'com.b', 'com.c'] });
  });

  it('passes "All" with the custom all value to the backend, which drops the filter', () => {
    const q = ds.applyTemplateVariables({ refId: 'A', filters: { campaign: ['$campaign'] } }, {});
    expect(q.filters).toEqual({ campaign: ['$__all'] });
  });

  it('keeps literal values and single-value variables', () => {
    const q = ds.applyTemplateVariables({ refId: 'A', filters: { media_source: ['${source}', 'x'] } }, {});
    expect(q.filters).toEqual({ media_source: ['facebook', 'x'] });
  });

  it('renders text embedding a variable as text', () => {
    const q = ds.applyTemplateVariables({ refId: 'A', filters: { campaign: ['pre-$source'] } }, {});
    expect(q.filters).toEqual({ campaign: ['pre-["facebook"]'] });
  });

  it('interpolates the string fields and leaves time macros for the backend', () => {
    const q = ds.applyTemplateVariables(
      { refId: 'A', queryType: 'lag', consumerGroup: '$group', topic: 'raw_events', dimension: '$dim', granularity: '$__interval' },
      {}
    );
    expect(q.consumerGroup).toBe('agg-$env');
    expect(q.dimension).toBe('campaign');
    expect(q.granularity).toBe('$__interval');
  });

  it('does not touch the stored query', () => {
    const stored: CampaignPulseQuery = { refId: 'A', filters: { app_id: ['$app_id'] } };
    ds.applyTemplateVariables(stored, {});
    expect(stored.filters).toEqual({ app_id: ['$app_id'] });
  });
});

describe('query', () => {
  const fetch = jest.fn();
  const getDataStream = jest.fn();
  beforeEach(() => {
    fetch.mockReset().mockReturnValue(of({ data: { results: {} }, status: 200, ok: true }));
    getDataStream.mockReset().mockReturnValue(of({ data: [], key: 'live' }));
    setBackendSrv({ fetch } as unknown as BackendSrv);
    setGrafanaLiveSrv({ getDataStream } as unknown as GrafanaLiveSrv);
  });
  const ds = new DataSource(settings, templateSrv({ app_id: ['com.a'] }));

  it('sends ordinary queries to the backend with variables expanded, hidden ones dropped', async () => {
    await lastValueFrom(
      ds.query(
        request([
          { refId: 'A', queryType: 'metrics', measure: 'installs', filters: { app_id: ['$app_id'] } },
          { refId: 'B', queryType: 'lag', hide: true },
        ])
      )
    );
    expect(getDataStream).not.toHaveBeenCalled();
    expect(fetch).toHaveBeenCalledTimes(1);
    const body = fetch.mock.calls[0][0].data;
    expect(body.queries).toHaveLength(1);
    expect(body.queries[0]).toMatchObject({ refId: 'A', queryType: 'metrics', filters: { app_id: ['com.a'] } });
  });

  it('subscribes live metrics queries to the datasource stream and queries the rest', async () => {
    await lastValueFrom(
      ds.query(
        request([
          { refId: 'A', queryType: 'metrics', live: true, groupBy: ['campaign'], filters: { app_id: ['$app_id'] } },
          { refId: 'B', queryType: 'freshness' },
        ])
      )
    );
    expect(getDataStream).toHaveBeenCalledTimes(1);
    const opts = getDataStream.mock.calls[0][0];
    expect(opts.addr.scope).toBe(LiveChannelScope.DataSource);
    expect(opts.addr.stream).toBe('campaignpulse');
    expect(opts.addr.path).toMatch(/^metrics\/43200\/[A-Za-z0-9_-]+$/);
    expect(`ds/campaignpulse/${opts.addr.path}`.length).toBeLessThanOrEqual(255);
    const encoded = opts.addr.path.split('/')[2].replace(/-/g, '+').replace(/_/g, '/');
    expect(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))).toEqual(opts.addr.data);
    expect(opts.addr.data).toEqual({ queryType: 'metrics', live: true, groupBy: ['campaign'], filters: { app_id: ['com.a'] } });
    expect(opts.buffer.maxDelta).toBe(12 * 3600 * 1000);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch.mock.calls[0][0].data.queries.map((q: CampaignPulseQuery) => q.refId)).toEqual(['B']);
  });

  it('does not call the backend when every query is live', async () => {
    await lastValueFrom(ds.query(request([{ refId: 'A', queryType: 'metrics', live: true }])));
    expect(fetch).not.toHaveBeenCalled();
    expect(getDataStream).toHaveBeenCalledTimes(1);
  });
});

describe('explore and display', () => {
  const ds = new DataSource(settings, templateSrv({ app_id: ['com.a', 'com.b'] }));

  it('interpolates queries for Explore and points them at this datasource', () => {
    const [q] = ds.interpolateVariablesInQueries([{ refId: 'A', filters: { app_id: ['$app_id'] } }], {});
    expect(q.filters).toEqual({ app_id: ['com.a', 'com.b'] });
    expect(q.datasource).toEqual({ type: 'campaignpulse-metrics-datasource', uid: 'campaignpulse' });
  });

  it.each([
    [{ refId: 'A', measure: 'installs', granularity: 'hour', groupBy: ['campaign'], topN: 5, filters: { app_id: ['x'] } }, 'installs per hour by campaign top 5 app_id=x'],
    [{ refId: 'A', queryType: 'lag', measure: 'lag_seconds' }, 'lag lag_seconds of default group on raw_events'],
    [{ refId: 'A', queryType: 'freshness' }, 'freshness'],
    [{ refId: 'A', queryType: 'variables', dimension: 'platform' }, 'values of platform'],
  ] as Array<[CampaignPulseQuery, string]>)('summarises %o', (q, text) => {
    expect(ds.getQueryDisplayText(q)).toBe(text);
  });
});

describe('live helpers', () => {
  it('only metrics queries are live', () => {
    expect(isLive({ refId: 'A', live: true })).toBe(true);
    expect(isLive({ refId: 'A', queryType: 'lag', live: true })).toBe(false);
    expect(isLive({ refId: 'A', queryType: 'metrics' })).toBe(false);
  });

  it('the stream path is stable under key order and differs between queries', () => {
    const a = streamPath({ queryType: 'metrics', groupBy: ['campaign'], topN: 5, filters: { campaign: ['été?>'] } }, 86400, 'cp');
    expect(streamPath({ filters: { campaign: ['été?>'] }, topN: 5, groupBy: ['campaign'], queryType: 'metrics' }, 86400, 'cp')).toBe(a);
    expect(streamPath({ queryType: 'metrics', groupBy: ['campaign'], topN: 6 }, 86400, 'cp')).not.toBe(a);
    expect(a).toMatch(/^metrics\/86400\/[A-Za-z0-9_\-/=.]+$/);
    expect(streamPath({}, 0, 'cp')).toMatch(/^metrics\/1\//);
    expect(streamPath({}, 1e9, 'cp')).toMatch(/^metrics\/2678400\//);
  });

  it('falls back to an opaque id when the channel would exceed 255 characters', () => {
    const long = { queryType: 'metrics', filters: { campaign: Array.from({ length: 20 }, (_, i) => `campaign-${i}`) } };
    const p = streamPath(long, 86400, 'campaignpulse');
    expect(p).toMatch(/^metrics\/[0-9a-f]{16}$/);
    expect(streamPath(long, 3600, 'campaignpulse')).not.toBe(p);
    const short = streamPath({ queryType: 'metrics' }, 86400, 'campaignpulse');
    expect(`ds/campaignpulse/${short}`.length).toBeLessThanOrEqual(255);
    expect(short).toMatch(/^metrics\/86400\//);
  });

  it('drops filters that are only "All"', () => {
    expect(withoutAllFilters({ filters: { app_id: ['$__all'], campaign: ['a'] } })).toEqual({ filters: { campaign: ['a'] } });
    expect(withoutAllFilters({ live: true, filters: { app_id: ['$__all'] } })).toEqual({ live: true });
  });
});
