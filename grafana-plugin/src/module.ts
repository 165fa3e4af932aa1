import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import { CampaignPulseOptions, CampaignPulseQuery, CampaignPulseSecureOptions } from './types';

export const plugin = new DataSourcePlugin<DataSource, CampaignPulseQuery, CampaignPulseOptions, CampaignPulseSecureOptions>(
  DataSource
)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
