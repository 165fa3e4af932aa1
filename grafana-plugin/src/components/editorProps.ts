import { CampaignPulseQuery } from '../types';

/** Props of the per-type editors: the query and how to change it. */
export interface TypeEditorProps {
  query: CampaignPulseQuery;
  /** Replaces the query; run is true when the change should refresh the panel. */
  onChange: (query: CampaignPulseQuery, run?: boolean) => void;
  /** The editor serves an alert rule: results must have one numeric column. */
  forAlerting?: boolean;
}

/** Splits a comma-separated text field into trimmed, non-empty values. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
