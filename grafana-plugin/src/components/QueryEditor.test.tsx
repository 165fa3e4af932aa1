import { fireEvent, render, screen } from '@testing-library/react';
import { CoreApp } from '@grafana/data';

import type { DataSource } from '../datasource';
import { selectors } from '../selectors';
import { CampaignPulseQuery, QUERY_TYPES } from '../types';
import { QueryEditor } from './QueryEditor';

function setup(query: CampaignPulseQuery, app?: CoreApp) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  const view = render(
    <QueryEditor datasource={{} as DataSource} query={query} onChange={onChange} onRunQuery={onRunQuery} app={app} />
  );
  return { onChange, onRunQuery, view };
}

describe('QueryEditor', () => {
  it.each(QUERY_TYPES)('renders the %s editor for its query type', (type) => {
    setup({ refId: 'A', queryType: type });
    expect(screen.getByTestId(selectors.queryEditor.editor(type))).toBeInTheDocument();
    for (const other of QUERY_TYPES.filter((t) => t !== type)) {
      expect(screen.queryByTestId(selectors.queryEditor.editor(other))).not.toBeInTheDocument();
    }
  });

  it('treats a query without type as metrics', () => {
    setup({ refId: 'A' });
    expect(screen.getByTestId(selectors.queryEditor.editor('metrics'))).toBeInTheDocument();
  });

  it('switching type keeps only the new type defaults and the target identity', () => {
    const { onChange, onRunQuery } = setup({
      refId: 'B',
      queryType: 'metrics',
      measure: 'revenue',
      groupBy: ['campaign'],
      topN: 5,
      datasource: { type: 'campaignpulse-metrics-datasource', uid: 'campaignpulse' },
    });
    fireEvent.click(screen.getByRole('radio', { name: 'Consumer lag' }));
    expect(onChange).toHaveBeenCalledWith({
      queryType: 'lag',
      refId: 'B',
      hide: undefined,
      key: undefined,
      datasource: { type: 'campaignpulse-metrics-datasource', uid: 'campaignpulse' },
    });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });
});

describe('MetricsEditor', () => {
  it('sets the measure and runs the query', () => {
    const { onChange, onRunQuery } = setup({ refId: 'A', queryType: 'metrics' });
    fireEvent.click(screen.getByRole('radio', { name: 'Revenue (USD)' }));
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'metrics', measure: 'revenue_usd' });
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('keeps group-by dimensions in canonical order and drops the list when empty', () => {
    const { onChange, view } = setup({ refId: 'A', queryType: 'metrics', groupBy: ['campaign'] });
    fireEvent.click(screen.getByTestId(selectors.metrics.groupBy('media_source')));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ groupBy: ['media_source', 'campaign'] }));

    view.rerender(
      <QueryEditor
        datasource={{} as DataSource}
        query={{ refId: 'A', queryType: 'metrics', groupBy: ['campaign'] }}
        onChange={onChange}
        onRunQuery={jest.fn()}
      />
    );
    fireEvent.click(screen.getByTestId(selectors.metrics.groupBy('campaign')));
    expect(onChange.mock.calls.at(-1)[0].groupBy).toBeUndefined();
  });

  it('parses top N and clears it for 0', () => {
    const { onChange } = setup({ refId: 'A', queryType: 'metrics' });
    const input = screen.getByTestId(selectors.metrics.topN);
    fireEvent.change(input, { target: { value: '10' } });
    fireEvent.blur(input);
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ topN: 10 }));
    fireEvent.change(input, { target: { value: '0' } });
    fireEvent.blur(input);
    expect(onChange.mock.calls.at(-1)[0].topN).toBeUndefined();
  });

  it('turns cumulative and live on', () => {
    const { onChange } = setup({ refId: 'A', queryType: 'metrics' });
    fireEvent.click(screen.getByTestId(selectors.metrics.cumulative));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ cumulative: true }));
    fireEvent.click(screen.getByTestId(selectors.metrics.live));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ live: true }));
  });

  it('writes filters as value lists and removes emptied ones', () => {
    const { onChange, view } = setup({ refId: 'A', queryType: 'metrics' });
    const input = screen.getByTestId(selectors.filters.input('campaign'));
    fireEvent.change(input, { target: { value: ' summer, $campaign ,, ' } });
    fireEvent.blur(input);
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ filters: { campaign: ['summer', '$campaign'] } })
    );

    view.unmount();
    const second = setup({ refId: 'A', queryType: 'metrics', filters: { campaign: ['summer'] } });
    const again = screen.getByTestId(selectors.filters.input('campaign'));
    expect(again).toHaveValue('summer');
    fireEvent.change(again, { target: { value: '' } });
    fireEvent.blur(again);
    expect(second.onChange.mock.calls.at(-1)[0]).not.toHaveProperty('filters');
  });
});

describe('LagEditor', () => {
  it('chooses one lag column or both', () => {
    const { onChange } = setup({ refId: 'A', queryType: 'lag', measure: 'lag_records' });
    fireEvent.click(screen.getByRole('radio', { name: 'Seconds' }));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'lag', measure: 'lag_seconds' });
    fireEvent.click(screen.getByRole('radio', { name: 'Both' }));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'lag' });
  });

  it('sets and clears the consumer group', () => {
    const { onChange } = setup({ refId: 'A', queryType: 'lag' });
    const input = screen.getByTestId(selectors.lag.consumerGroup);
    fireEvent.change(input, { target: { value: ' agg-2 ' } });
    fireEvent.blur(input);
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'lag', consumerGroup: 'agg-2' });
    fireEvent.change(input, { target: { value: '' } });
    fireEvent.blur(input);
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'lag' });
  });
});

describe('alert rule editing', () => {
  it('a lag query started in an alert rule names one measure', () => {
    const { onChange } = setup({ refId: 'A', queryType: 'metrics' }, CoreApp.UnifiedAlerting);
    fireEvent.click(screen.getByRole('radio', { name: 'Consumer lag' }));
    expect(onChange).toHaveBeenCalledWith(expect.objectContaining({ queryType: 'lag', measure: 'lag_seconds' }));
  });

  it('offers no "Both" and warns while no measure is chosen', () => {
    setup({ refId: 'A', queryType: 'lag' }, CoreApp.UnifiedAlerting);
    expect(screen.queryByRole('radio', { name: 'Both' })).not.toBeInTheDocument();
    expect(screen.getByTestId(selectors.lag.alertingHint)).toBeInTheDocument();
  });

  it('panels keep "Both" and show no warning', () => {
    setup({ refId: 'A', queryType: 'lag' }, CoreApp.Dashboard);
    expect(screen.getByRole('radio', { name: 'Both' })).toBeChecked();
    expect(screen.queryByTestId(selectors.lag.alertingHint)).not.toBeInTheDocument();
  });
});

describe('FreshnessEditor', () => {
  it('offers only the app_id filter', () => {
    setup({ refId: 'A', queryType: 'freshness' });
    expect(screen.getByTestId(selectors.filters.input('app_id'))).toBeInTheDocument();
    expect(screen.queryByTestId(selectors.filters.input('campaign'))).not.toBeInTheDocument();
  });
});

describe('VariablesEditor', () => {
  it('picks the dimension and does not filter by it', () => {
    const { onChange } = setup({ refId: 'A', queryType: 'variables', dimension: 'campaign' });
    expect(screen.queryByTestId(selectors.filters.input('campaign'))).not.toBeInTheDocument();
    expect(screen.getByTestId(selectors.filters.input('app_id'))).toBeInTheDocument();
    fireEvent.click(screen.getByRole('radio', { name: 'platform' }));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'variables', dimension: 'platform' });
  });
});

describe('StorageEditor', () => {
  it('switches to a storage query that carries no other field', () => {
    const { onChange } = setup({ refId: 'C', queryType: 'freshness', filters: { app_id: ['id1'] } });
    fireEvent.click(screen.getByRole('radio', { name: 'Storage' }));
    expect(onChange).toHaveBeenCalledWith({ queryType: 'storage', refId: 'C', hide: undefined, key: undefined, datasource: undefined });
  });
});
