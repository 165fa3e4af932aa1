import { QueryEditorProps } from '@grafana/data';

import type { DataSource } from '../datasource';
import { CampaignPulseOptions, CampaignPulseQuery } from '../types';
import { toVariableQuery } from '../variableQuery';
import { VariablesEditor } from './VariablesEditor';

type Props = QueryEditorProps<DataSource, CampaignPulseQuery, CampaignPulseOptions, CampaignPulseQuery>;

/** The query-variable editor: always a variables query. */
export function VariableQueryEditor({ query, onChange }: Props) {
  const q = toVariableQuery(query ?? {});
  return <VariablesEditor query={q} onChange={(next) => onChange(toVariableQuery(next))} />;
}
