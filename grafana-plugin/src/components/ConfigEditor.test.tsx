import { fireEvent, render, screen } from '@testing-library/react';
import { DataSourceSettings } from '@grafana/data';

import { selectors } from '../selectors';
import { CampaignPulseOptions, CampaignPulseSecureOptions } from '../types';
import { ConfigEditor } from './ConfigEditor';

type Settings = DataSourceSettings<CampaignPulseOptions, CampaignPulseSecureOptions>;

// The jsonData keys grafana-plugin/pkg/plugin/settings.go accepts; it
// rejects any other key, so the editor must never write one.
const BACKEND_JSON_KEYS = [
  'mongoDatabase',
  'mongoUsername',
  'mongoAuthSource',
  'mongoTls',
  'mongoTlsCaCert',
  'mongoTlsSkipVerify',
  'mongoMaxTimeMs',
  'kafkaBrokers',
  'kafkaConsumerGroup',
  'kafkaSaslMechanism',
  'kafkaSaslUsername',
  'kafkaTls',
  'kafkaTlsCaCert',
  'kafkaTlsSkipVerify',
  'timeZone',
];
const BACKEND_SECURE_KEYS = ['mongoUri', 'mongoPassword', 'kafkaSaslPassword'];

function settings(jsonData: CampaignPulseOptions = {}, secureJsonFields: Record<string, boolean> = {}): Settings {
  return {
    id: 1,
    uid: 'campaignpulse',
    orgId: 1,
    name: 'campaignpulse',
    type: 'campaignpulse-metrics-datasource',
    typeName: '',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: true,
    withCredentials: false,
    readOnly: false,
    jsonData,
    secureJsonFields,
    version: 1,
  } as Settings;
}

function setup(s: Settings) {
  const onOptionsChange = jest.fn();
  render(<ConfigEditor options={s} onOptionsChange={onOptionsChange} />);
  return onOptionsChange;
}

describe('ConfigEditor', () => {
  it('writes plain settings to jsonData and drops emptied ones', () => {
    const onOptionsChange = setup(settings({ mongoDatabase: 'cp' }));
    fireEvent.change(screen.getByTestId(selectors.config.kafkaBrokers), { target: { value: 'k1:9092,k2:9092' } });
    expect(onOptionsChange.mock.calls.at(-1)[0].jsonData).toEqual({ mongoDatabase: 'cp', kafkaBrokers: 'k1:9092,k2:9092' });
    fireEvent.change(screen.getByTestId(selectors.config.mongoDatabase), { target: { value: '' } });
    expect(onOptionsChange.mock.calls.at(-1)[0].jsonData).toEqual({});
  });

  it('writes secrets to secureJsonData only', () => {
    const onOptionsChange = setup(settings());
    fireEvent.change(screen.getByTestId(selectors.config.mongoUri), { target: { value: 'mongodb://u:p@mongo:27017' } });
    const next: Settings = onOptionsChange.mock.calls.at(-1)[0];
    expect(next.secureJsonData).toEqual({ mongoUri: 'mongodb://u:p@mongo:27017' });
    expect(JSON.stringify(next.jsonData)).not.toContain('mongodb://');
  });

  it('shows a configured secret as set and resets it', () => {
    const onOptionsChange = setup(settings({}, { mongoUri: true }));
    fireEvent.click(screen.getByRole('button', { name: /reset/i }));
    const next: Settings = onOptionsChange.mock.calls.at(-1)[0];
    expect(next.secureJsonFields.mongoUri).toBe(false);
    expect(next.secureJsonData?.mongoUri).toBe('');
  });

  it('stores the query time limit as a number', () => {
    const onOptionsChange = setup(settings());
    fireEvent.change(screen.getByTestId(selectors.config.mongoMaxTimeMs), { target: { value: '30000' } });
    expect(onOptionsChange.mock.calls.at(-1)[0].jsonData).toEqual({ mongoMaxTimeMs: 30000 });
  });

  it('reveals TLS and SASL fields only when turned on', () => {
    setup(settings({ kafkaTls: true, kafkaSaslMechanism: 'SCRAM-SHA-512' }));
    expect(screen.getByTestId(selectors.config.kafkaTlsCaCert)).toBeInTheDocument();
    expect(screen.getByTestId(selectors.config.kafkaSaslUsername)).toBeInTheDocument();
    expect(screen.queryByTestId(selectors.config.mongoTlsCaCert)).not.toBeInTheDocument();
  });

  it.each([
    ['mongo', 'mongoTls', 'mongoTlsCaCert', 'mongoTlsSkipVerify'],
    ['kafka', 'kafkaTls', 'kafkaTlsCaCert', 'kafkaTlsSkipVerify'],
  ] as const)('turning %s TLS off clears its hidden CA fields', (_, tls, ca, skip) => {
    const onOptionsChange = setup(
      settings({ mongoDatabase: 'cp', [tls]: true, [ca]: '-----BEGIN CERTIFICATE-----', [skip]: true })
    );
    fireEvent.click(screen.getByTestId(selectors.config[tls]));
    expect(onOptionsChange.mock.calls.at(-1)[0].jsonData).toEqual({ mongoDatabase: 'cp' });
  });

  it('never writes a key the backend would reject', () => {
    const onOptionsChange = setup(settings({ mongoTls: true, kafkaTls: true, kafkaSaslMechanism: 'PLAIN' }));
    for (const [key, id] of Object.entries(selectors.config)) {
      const el = screen.queryByTestId(id);
      if (!el) {
        continue;
      }
      if (el.getAttribute('type') === 'checkbox') {
        fireEvent.click(el);
      } else if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA') {
        fireEvent.change(el, { target: { value: key === 'mongoMaxTimeMs' ? '5000' : 'x' } });
      }
    }
    fireEvent.click(screen.getByRole('radio', { name: 'SCRAM-SHA-256' }));
    expect(onOptionsChange.mock.calls.length).toBeGreaterThan(10);
    for (const [next] of onOptionsChange.mock.calls as Array<[Settings]>) {
      expect(BACKEND_JSON_KEYS).toEqual(expect.arrayContaining(Object.keys(next.jsonData)));
      expect(BACKEND_SECURE_KEYS).toEqual(expect.arrayContaining(Object.keys(next.secureJsonData ?? {})));
    }
  });
});
