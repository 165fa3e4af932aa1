// A page that renders the plugin's editors with the real @grafana/ui, so a
// headless browser can drive them as a user does. Each editor's latest
// emitted value is shown as JSON next to it; the test reads it from there.
import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { CoreApp, DataSourceSettings, createTheme } from '@grafana/data';
import { GlobalStyles, ThemeContext } from '@grafana/ui';

import { ConfigEditor } from '../src/components/ConfigEditor';
import { QueryEditor } from '../src/components/QueryEditor';
import { VariableQueryEditor } from '../src/components/VariableQueryEditor';
import type { DataSource } from '../src/datasource';
import { selectors } from '../src/selectors';
import { CampaignPulseOptions, CampaignPulseQuery, CampaignPulseSecureOptions } from '../src/types';

type Settings = DataSourceSettings<CampaignPulseOptions, CampaignPulseSecureOptions>;

const datasource = {} as DataSource;
const theme = createTheme({ colors: { mode: 'dark' } });

const initialSettings = {
  id: 1,
  uid: 'campaignpulse',
  orgId: 1,
  name: 'campaignpulse',
  type: 'campaignpulse-metrics-datasource',
  access: 'proxy',
  jsonData: { mongoDatabase: 'campaignpulse', kafkaBrokers: 'kafka:9092', timeZone: 'UTC' },
  secureJsonFields: { mongoUri: true },
} as unknown as Settings;

function Emitted({ id, value }: { id: string; value: unknown }) {
  return (
    <pre data-testid={id} style={{ fontSize: 12, margin: '8px 0 0', opacity: 0.8 }}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

function Section({ id, title, children }: { id: string; title: string; children: React.ReactNode }) {
  return (
    <section data-testid={id} style={{ padding: 16, width: 1100, background: theme.colors.background.primary }}>
      <h3 style={{ margin: '0 0 12px' }}>{title}</h3>
      {children}
    </section>
  );
}

function Harness() {
  const [query, setQuery] = useState<CampaignPulseQuery>({ refId: 'A' });
  const [runs, setRuns] = useState(0);
  const [variable, setVariable] = useState<CampaignPulseQuery>({ refId: 'variable', queryType: 'variables', dimension: 'app_id' });
  const [settings, setSettings] = useState<Settings>(initialSettings);
  return (
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <div style={{ background: theme.colors.background.canvas, color: theme.colors.text.primary, fontFamily: theme.typography.fontFamily }}>
        <Section id="harness-query" title="Query editor">
          <QueryEditor
            datasource={datasource}
            query={query}
            onChange={setQuery}
            onRunQuery={() => setRuns((n) => n + 1)}
            app={CoreApp.PanelEditor}
          />
          <Emitted id="harness-query-json" value={{ query, runs }} />
        </Section>
        <Section id="harness-variable" title="Variable query editor">
          <VariableQueryEditor datasource={datasource} query={variable} onChange={setVariable} onRunQuery={() => {}} />
          <Emitted id="harness-variable-json" value={variable} />
        </Section>
        <Section id="harness-config" title="Data source settings">
          <ConfigEditor options={settings} onOptionsChange={setSettings} />
          <Emitted id="harness-config-json" value={{ jsonData: settings.jsonData, secureJsonData: settings.secureJsonData ?? {} }} />
        </Section>
      </div>
    </ThemeContext.Provider>
  );
}

// The test finds controls by the same data-testid values the components use.
(window as unknown as { cpSelectors: typeof selectors }).cpSelectors = selectors;
createRoot(document.getElementById('root')!).render(<Harness />);
