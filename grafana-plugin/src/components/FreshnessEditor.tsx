
import { FRESHNESS_FILTERS } from '../types';
import { TypeEditorProps } from './editorProps';
import { FiltersField } from './FiltersField';

/**
 * Editor of a freshness query: the age of the newest counted event per app
 * and source. Only app_id can be filtered.
 */
export function FreshnessEditor({ query, onChange }: TypeEditorProps) {
  return <FiltersField query={query} dimensions={FRESHNESS_FILTERS} onChange={onChange} />;
}
