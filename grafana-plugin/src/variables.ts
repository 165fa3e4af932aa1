import { CustomVariableSupport, DataQueryRequest, DataQueryResponse } from '@grafana/data';
import { Observable } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { DataSource } from './datasource';
import { CampaignPulseQuery } from './types';
import { toVariableQuery } from './variableQuery';

/**
 * Dashboard variables (app_id, media_source, campaign, platform) come from
 * the backend's `variables` query type, which returns the distinct values of
 * one dimension as a text/value frame.
 */
export class VariableSupport extends CustomVariableSupport<DataSource, CampaignPulseQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  query(request: DataQueryRequest<CampaignPulseQuery>): Observable<DataQueryResponse> {
    const targets = request.targets.map((t) => toVariableQuery(t));
    return this.datasource.query({ ...request, targets });
  }
}
