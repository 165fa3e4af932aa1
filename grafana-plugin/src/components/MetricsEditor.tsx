import { Checkbox, InlineField, InlineFieldRow, InlineSwitch, Input, RadioButtonGroup, Stack } from '@grafana/ui';

import { selectors } from '../selectors';
import { DIMENSIONS, Dimension, Format, Granularity, MEASURES, MEASURE_TITLES, Measure } from '../types';
import { TypeEditorProps } from './editorProps';
import { FiltersField } from './FiltersField';

const measureOptions: Array<{ label: string; value: Measure }> = MEASURES.map((value) => ({
  label: MEASURE_TITLES[value],
  value,
}));

const granularityOptions: Array<{ label: string; value: Granularity }> = [
  { label: 'Auto', value: 'auto' },
  { label: 'Hour', value: 'hour' },
  { label: 'Day', value: 'day' },
];

const formatOptions: Array<{ label: string; value: Format; description: string }> = [
  { label: 'Time series', value: 'time_series', description: 'one series per group (wide)' },
  { label: 'Long', value: 'time_series_long', description: 'one frame: time, dimensions, value' },
  { label: 'Table', value: 'table', description: 'one row per group with the range total' },
];

/** Editor of a metrics query: measure, windows, grouping, filters. */
export function MetricsEditor({ query, onChange }: TypeEditorProps) {
  const groupBy = query.groupBy ?? [];
  const toggleGroupBy = (dim: Dimension, on: boolean) => {
    const next = on ? DIMENSIONS.filter((d) => d === dim || groupBy.includes(d)) : groupBy.filter((d) => d !== dim);
    onChange({ ...query, groupBy: next.length ? next : undefined }, true);
  };
  return (
    <Stack direction="column" gap={0}>
      <InlineFieldRow>
        <InlineField label="Measure" labelWidth={16}>
          <RadioButtonGroup
            data-testid={selectors.metrics.measure}
            options={measureOptions}
            value={(query.measure as Measure | undefined) ?? MEASURES[0]}
            onChange={(measure) => onChange({ ...query, measure }, true)}
          />
        </InlineField>
        <InlineField label="Granularity" tooltip="Hour or day windows; auto picks from the time range">
          <RadioButtonGroup
            data-testid={selectors.metrics.granularity}
            options={granularityOptions}
            value={(query.granularity as Granularity | undefined) ?? 'auto'}
            onChange={(granularity) => onChange({ ...query, granularity }, true)}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label="Format" labelWidth={16}>
          <RadioButtonGroup
            data-testid={selectors.metrics.format}
            options={formatOptions}
            value={query.format ?? 'time_series'}
            onChange={(format) => onChange({ ...query, format }, true)}
          />
        </InlineField>
        <InlineField label="Top N" tooltip="Keep the N largest groups and fold the rest into 'other'; 0 keeps all">
          <Input
            data-testid={selectors.metrics.topN}
            type="number"
            min={0}
            max={1000}
            width={10}
            defaultValue={query.topN ?? ''}
            onBlur={(e) => {
              const n = parseInt(e.currentTarget.value, 10);
              onChange({ ...query, topN: Number.isFinite(n) && n > 0 ? n : undefined }, true);
            }}
          />
        </InlineField>
        <InlineField label="Cumulative" tooltip="Running sum over the time range, e.g. today so far">
          <InlineSwitch
            data-testid={selectors.metrics.cumulative}
            value={query.cumulative ?? false}
            onChange={(e) => onChange({ ...query, cumulative: e.currentTarget.checked || undefined }, true)}
          />
        </InlineField>
        <InlineField label="Live" tooltip="Follow the aggregator's updates over Grafana Live">
          <InlineSwitch
            data-testid={selectors.metrics.live}
            value={query.live ?? false}
            onChange={(e) => onChange({ ...query, live: e.currentTarget.checked || undefined }, true)}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineField label="Group by" labelWidth={16}>
        <Stack direction="row" gap={2} alignItems="center">
          {DIMENSIONS.map((dim) => (
            <Checkbox
              key={dim}
              data-testid={selectors.metrics.groupBy(dim)}
              label={dim}
              value={groupBy.includes(dim)}
              onChange={(e) => toggleGroupBy(dim, e.currentTarget.checked)}
            />
          ))}
        </Stack>
      </InlineField>
      <FiltersField query={query} dimensions={DIMENSIONS} onChange={onChange} />
    </Stack>
  );
}
