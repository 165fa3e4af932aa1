import { InlineField, Input } from '@grafana/ui';

import { selectors } from '../selectors';
import { CampaignPulseQuery, Dimension } from '../types';
import { splitList } from './editorProps';

interface Props {
  query: CampaignPulseQuery;
  dimensions: readonly Dimension[];
  onChange: (query: CampaignPulseQuery, run?: boolean) => void;
}

/**
 * One comma-separated value list per dimension. Values are literal;
 * dashboard variables such as $campaign are allowed and expand to every
 * selected value.
 */
export function FiltersField({ query, dimensions, onChange }: Props) {
  const update = (dim: Dimension, text: string) => {
    const filters = { ...(query.filters ?? {}) };
    const values = splitList(text);
    if (values.length === 0) {
      delete filters[dim];
    } else {
      filters[dim] = values;
    }
    const next: CampaignPulseQuery = { ...query, filters };
    if (Object.keys(filters).length === 0) {
      delete next.filters;
    }
    onChange(next, true);
  };
  return (
    <>
      {dimensions.map((dim) => (
        <InlineField key={dim} label={dim} labelWidth={16} tooltip={`Only these ${dim} values; empty matches all`}>
          <Input
            data-testid={selectors.filters.input(dim)}
            width={40}
            placeholder="all (or a, b, $variable)"
            defaultValue={(query.filters?.[dim] ?? []).join(', ')}
            onBlur={(e) => update(dim, e.currentTarget.value)}
          />
        </InlineField>
      ))}
    </>
  );
}
