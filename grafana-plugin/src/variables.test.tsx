import { fireEvent, render, screen } from '@testing-library/react';
import { DataQueryRequest } from '@grafana/data';
import { of } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { DataSource } from './datasource';
import { CampaignPulseQuery } from './types';
import { toVariableQuery } from './variableQuery';
import { VariableSupport } from './variables';

describe('VariableSupport', () => {
  it('sends every variable query as a variables query', () => {
    const query = jest.fn().mockReturnValue(of({ data: [] }));
    const vs = new VariableSupport({ query } as unknown as DataSource);
    vs.query({
      targets: [{ refId: 'V', queryType: 'metrics', measure: 'installs', dimension: 'campaign', filters: { app_id: ['$app_id'] } }],
    } as DataQueryRequest<CampaignPulseQuery>);
    expect(query.mock.calls[0][0].targets).toEqual([
      { refId: 'V', queryType: 'variables', dimension: 'campaign', filters: { app_id: ['$app_id'] } },
    ]);
  });

  it('gives an empty stored query a dimension', () => {
    expect(toVariableQuery({})).toEqual({ refId: 'variable', queryType: 'variables', dimension: 'app_id' });
  });
});

describe('VariableQueryEditor', () => {
  it('edits the dimension of the variable query', () => {
    const onChange = jest.fn();
    render(
      <VariableQueryEditor
        datasource={{} as DataSource}
        query={{ refId: 'V', queryType: 'variables', dimension: 'app_id' }}
        onChange={onChange}
        onRunQuery={jest.fn()}
      />
    );
    fireEvent.click(screen.getByRole('radio', { name: 'media_source' }));
    expect(onChange).toHaveBeenCalledWith({ refId: 'V', queryType: 'variables', dimension: 'media_source' });
  });
});
