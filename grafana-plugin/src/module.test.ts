import { VariableSupportType } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { VariableQueryEditor } from './components/VariableQueryEditor';
import { DataSource } from './datasource';
import { plugin } from './module';

describe('plugin module', () => {
  it('wires the datasource class and both editors', () => {
    expect(plugin.DataSourceClass).toBe(DataSource);
    expect(plugin.components.QueryEditor).toBe(QueryEditor);
    expect(plugin.components.ConfigEditor).toBe(ConfigEditor);
  });

  it('query variables use the custom variables editor', () => {
    const ds = new DataSource({ id: 1, uid: 'campaignpulse', type: 'campaignpulse-metrics-datasource', name: 'x', jsonData: {}, meta: {} } as never);
    expect(ds.variables?.getType()).toBe(VariableSupportType.Custom);
    expect((ds.variables as { editor: unknown }).editor).toBe(VariableQueryEditor);
  });
});
