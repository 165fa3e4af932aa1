import { ComponentType } from 'react';
import { CoreApp, QueryEditorProps } from '@grafana/data';
import { InlineField, RadioButtonGroup, Stack } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { selectors } from '../selectors';
import { CampaignPulseOptions, CampaignPulseQuery, DEFAULT_QUERIES, QUERY_TYPES, QueryType } from '../types';
import { TypeEditorProps } from './editorProps';
import { FreshnessEditor } from './FreshnessEditor';
import { LagEditor } from './LagEditor';
import { MetricsEditor } from './MetricsEditor';
import { StorageEditor } from './StorageEditor';
import { VariablesEditor } from './VariablesEditor';

/**
 * One editor per query type. The mapped type makes a query type without an
 * editor (or an editor for an unknown type) a compile error.
 */
export const EDITORS: { [K in QueryType]: ComponentType<TypeEditorProps> } = {
  metrics: MetricsEditor,
  lag: LagEditor,
  freshness: FreshnessEditor,
  variables: VariablesEditor,
  storage: StorageEditor,
};

const LABELS: { [K in QueryType]: string } = {
  metrics: 'Metrics',
  lag: 'Consumer lag',
  freshness: 'Freshness',
  variables: 'Dimension values',
  storage: 'Storage',
};

const typeOptions = QUERY_TYPES.map((t) => ({ label: LABELS[t], value: t }));

type Props = QueryEditorProps<DataSource, CampaignPulseQuery, CampaignPulseOptions>;

/** The panel/Explore/alerting query editor: a type picker and that type's editor. */
export function QueryEditor({ query, onChange, onRunQuery, app }: Props) {
  const type: QueryType = query.queryType ?? 'metrics';
  const forAlerting = app === CoreApp.UnifiedAlerting;
  const Editor = EDITORS[type] ?? EDITORS.metrics;
  const change = (next: CampaignPulseQuery, run?: boolean) => {
    onChange(next);
    if (run) {
      onRunQuery();
    }
  };
  // Switching type starts from that type's defaults: the backend rejects
  // fields another type would ignore.
  const switchType = (t: QueryType) => {
    const { refId, hide, datasource, key } = query;
    const defaults: CampaignPulseQuery = { ...DEFAULT_QUERIES[t], refId };
    if (forAlerting && t === 'lag') {
      // Alert rules accept exactly one numeric column.
      defaults.measure = 'lag_seconds';
    }
    change({ ...defaults, refId, hide, datasource, key }, true);
  };
  return (
    <Stack direction="column" gap={1}>
      <InlineField label="Query type" labelWidth={16}>
        <RadioButtonGroup data-testid={selectors.queryEditor.queryType} options={typeOptions} value={type} onChange={switchType} />
      </InlineField>
      <div data-testid={selectors.queryEditor.editor(type)}>
        <Editor
          key={`${query.refId}-${type}`}
          query={{ ...query, queryType: type }}
          onChange={change}
          forAlerting={forAlerting}
        />
      </div>
    </Stack>
  );
}
