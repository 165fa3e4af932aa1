import { CampaignPulseQuery, DEFAULT_QUERIES } from './types';

/** Forces a stored variable query into the variables query type. */
export function toVariableQuery(q: Partial<CampaignPulseQuery>): CampaignPulseQuery {
  return {
    refId: q.refId || 'variable',
    queryType: 'variables',
    dimension: q.dimension || DEFAULT_QUERIES.variables.dimension,
    ...(q.filters ? { filters: q.filters } : {}),
    ...(q.datasource ? { datasource: q.datasource } : {}),
  };
}
