import { Alert, InlineField, InlineFieldRow, Input, RadioButtonGroup, Stack } from '@grafana/ui';

import { selectors } from '../selectors';
import { LagMeasure } from '../types';
import { TypeEditorProps } from './editorProps';

const BOTH = 'both';
const measureOptions: Array<{ label: string; value: LagMeasure | typeof BOTH; description: string }> = [
  { label: 'Both', value: BOTH, description: 'records and seconds in one table' },
  { label: 'Records', value: 'lag_records', description: 'end offset minus committed offset' },
  { label: 'Seconds', value: 'lag_seconds', description: 'age of the oldest unconsumed record (alert-ready)' },
];

/** Editor of a lag query: Kafka consumer group lag of a topic. */
export function LagEditor({ query, onChange, forAlerting }: TypeEditorProps) {
  // An alert rule needs exactly one numeric column: no "Both".
  const options = forAlerting ? measureOptions.filter((o) => o.value !== BOTH) : measureOptions;
  const text = (key: 'consumerGroup' | 'topic', value: string) => {
    const next = { ...query };
    if (value.trim() === '') {
      delete next[key];
    } else {
      next[key] = value.trim();
    }
    onChange(next, true);
  };
  return (
    <Stack direction="column" gap={1}>
      <InlineFieldRow>
        <InlineField label="Consumer group" labelWidth={18} tooltip="Empty: the datasource's consumer group">
          <Input
            data-testid={selectors.lag.consumerGroup}
            width={30}
            placeholder="datasource default"
            defaultValue={query.consumerGroup ?? ''}
            onBlur={(e) => text('consumerGroup', e.currentTarget.value)}
          />
        </InlineField>
        <InlineField label="Topic" tooltip="Empty: raw_events">
          <Input
            data-testid={selectors.lag.topic}
            width={24}
            placeholder="raw_events"
            defaultValue={query.topic ?? ''}
            onBlur={(e) => text('topic', e.currentTarget.value)}
          />
        </InlineField>
        <InlineField label="Measure">
          <RadioButtonGroup
            data-testid={selectors.lag.measure}
            options={options}
            value={(query.measure as LagMeasure | undefined) ?? (forAlerting ? undefined : BOTH)}
            onChange={(m: LagMeasure | typeof BOTH) => {
              const next = { ...query };
              if (m === BOTH) {
                delete next.measure;
              } else {
                next.measure = m;
              }
              onChange(next, true);
            }}
          />
        </InlineField>
      </InlineFieldRow>
      {forAlerting && !query.measure && (
        <Alert severity="warning" title="Choose records or seconds" data-testid={selectors.lag.alertingHint}>
          Alert rules need a single numeric column per partition.
        </Alert>
      )}
    </Stack>
  );
}
