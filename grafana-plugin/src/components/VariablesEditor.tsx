import { InlineField, RadioButtonGroup, Stack } from '@grafana/ui';

import { selectors } from '../selectors';
import { DIMENSIONS, Dimension } from '../types';
import { TypeEditorProps } from './editorProps';
import { FiltersField } from './FiltersField';

const dimensionOptions = DIMENSIONS.map((d) => ({ label: d, value: d }));

/**
 * Editor of a variables query: the distinct values of one dimension,
 * optionally narrowed by other dimensions (e.g. campaigns of $app_id).
 */
export function VariablesEditor({ query, onChange }: TypeEditorProps) {
  const dimension = (query.dimension as Dimension | undefined) ?? 'app_id';
  return (
    <Stack direction="column" gap={0}>
      <InlineField label="Dimension" labelWidth={16}>
        <RadioButtonGroup
          data-testid={selectors.variables.dimension}
          options={dimensionOptions}
          value={dimension}
          onChange={(d) => onChange({ ...query, dimension: d }, true)}
        />
      </InlineField>
      <FiltersField query={query} dimensions={DIMENSIONS.filter((d) => d !== dimension)} onChange={onChange} />
    </Stack>
  );
}
