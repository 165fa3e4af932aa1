import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Field, FieldSet, Input, RadioButtonGroup, SecretInput, Switch, TextArea } from '@grafana/ui';

import { selectors } from '../selectors';
import { CampaignPulseOptions, CampaignPulseSecureOptions, SASL_MECHANISMS } from '../types';

type Props = DataSourcePluginOptionsEditorProps<CampaignPulseOptions, CampaignPulseSecureOptions>;
type JsonKey = keyof CampaignPulseOptions;
type SecureKey = keyof CampaignPulseSecureOptions;

const saslOptions = SASL_MECHANISMS.map((m) => ({ label: m === '' ? 'None' : m, value: m }));

/**
 * Connection settings. Everything goes to jsonData/secureJsonData because
 * Grafana >= 12.4 passes no environment to plugin processes; the keys match
 * grafana-plugin/pkg/plugin/settings.go, which rejects any other key.
 */
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const json = options.jsonData;
  const secureSet = options.secureJsonFields ?? {};

  // dependents: keys shown only while key is on; turning key off deletes them
  // too, so no hidden value (a CA the user cannot see) fails Save & test.
  const setJson = <K extends JsonKey>(key: K, value: CampaignPulseOptions[K] | undefined, dependents: JsonKey[] = []) => {
    const jsonData = { ...options.jsonData };
    if (value === undefined || value === '' || value === false) {
      delete jsonData[key];
      dependents.forEach((d) => delete jsonData[d]);
    } else {
      jsonData[key] = value;
    }
    onOptionsChange({ ...options, jsonData });
  };
  const setSecret = (key: SecureKey, value: string) =>
    onOptionsChange({ ...options, secureJsonData: { ...(options.secureJsonData ?? {}), [key]: value } });
  const resetSecret = (key: SecureKey) =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureSet, [key]: false },
      secureJsonData: { ...(options.secureJsonData ?? {}), [key]: '' },
    });

  const text = (key: JsonKey, testId: string, placeholder: string, width = 40) => (
    <Input
      data-testid={testId}
      width={width}
      placeholder={placeholder}
      value={(json[key] as string | undefined) ?? ''}
      onChange={(e) => setJson(key, e.currentTarget.value as never)}
    />
  );
  const secret = (key: SecureKey, testId: string, placeholder: string) => (
    <SecretInput
      data-testid={testId}
      width={60}
      placeholder={placeholder}
      isConfigured={Boolean(secureSet[key])}
      value={options.secureJsonData?.[key] ?? ''}
      onChange={(e) => setSecret(key, e.currentTarget.value)}
      onReset={() => resetSecret(key)}
    />
  );
  const toggle = (key: JsonKey, testId: string, dependents: JsonKey[] = []) => (
    <Switch
      data-testid={testId}
      value={Boolean(json[key])}
      onChange={(e) => setJson(key, e.currentTarget.checked as never, dependents)}
    />
  );
  const pem = (key: JsonKey, testId: string) => (
    <TextArea
      data-testid={testId}
      rows={3}
      placeholder="-----BEGIN CERTIFICATE-----"
      value={(json[key] as string | undefined) ?? ''}
      onChange={(e) => setJson(key, e.currentTarget.value as never)}
    />
  );

  // A peer's TLS switch and, while it is on, the fields under it (the same
  // keys for MongoDB and Kafka); the backend rejects them while TLS is off,
  // so turning the switch off deletes them.
  const tls = (peer: 'mongo' | 'kafka') => {
    const on = `${peer}Tls` as const;
    const ca = `${peer}TlsCaCert` as const;
    const skipVerify = `${peer}TlsSkipVerify` as const;
    return (
      <>
        <Field label="TLS">{toggle(on, selectors.config[on], [ca, skipVerify])}</Field>
        {json[on] && (
          <>
            <Field label="CA certificate (PEM)" description="Empty: system roots">
              {pem(ca, selectors.config[ca])}
            </Field>
            <Field label="Skip certificate verification" description="Test setups only">
              {toggle(skipVerify, selectors.config[skipVerify])}
            </Field>
          </>
        )}
      </>
    );
  };

  return (
    <>
      <FieldSet label="MongoDB">
        <Field label="Connection URI" description="mongodb:// or mongodb+srv:// URI; stored encrypted" required>
          {secret('mongoUri', selectors.config.mongoUri, 'mongodb://mongo:27017')}
        </Field>
        <Field label="Database" description="Database the aggregator writes (default campaignpulse)">
          {text('mongoDatabase', selectors.config.mongoDatabase, 'campaignpulse')}
        </Field>
        <Field label="Username" description="Only when the URI carries no credentials">
          {text('mongoUsername', selectors.config.mongoUsername, '')}
        </Field>
        <Field label="Password">{secret('mongoPassword', selectors.config.mongoPassword, '')}</Field>
        <Field label="Auth source" description="Authentication database (default admin)">
          {text('mongoAuthSource', selectors.config.mongoAuthSource, 'admin')}
        </Field>
        <Field label="Query time limit (ms)" description="maxTimeMS of every aggregation, 1..120000 (default 10000)">
          <Input
            data-testid={selectors.config.mongoMaxTimeMs}
            type="number"
            width={16}
            placeholder="10000"
            value={json.mongoMaxTimeMs ?? ''}
            onChange={(e) => {
              const n = parseInt(e.currentTarget.value, 10);
              setJson('mongoMaxTimeMs', Number.isFinite(n) ? n : undefined);
            }}
          />
        </Field>
        {tls('mongo')}
      </FieldSet>

      <FieldSet label="Kafka (consumer lag)">
        <Field label="Brokers" description="Comma-separated host:port list" required>
          {text('kafkaBrokers', selectors.config.kafkaBrokers, 'kafka:9092')}
        </Field>
        <Field label="Consumer group" description="The aggregator's group, default of lag queries">
          {text('kafkaConsumerGroup', selectors.config.kafkaConsumerGroup, 'campaignpulse-aggregate')}
        </Field>
        <Field label="SASL mechanism">
          <RadioButtonGroup
            data-testid={selectors.config.kafkaSaslMechanism}
            options={saslOptions}
            value={json.kafkaSaslMechanism ?? ''}
            onChange={(m) => setJson('kafkaSaslMechanism', m)}
          />
        </Field>
        {json.kafkaSaslMechanism && (
          <>
            <Field label="SASL username">{text('kafkaSaslUsername', selectors.config.kafkaSaslUsername, '')}</Field>
            <Field label="SASL password">{secret('kafkaSaslPassword', selectors.config.kafkaSaslPassword, '')}</Field>
          </>
        )}
        {tls('kafka')}
      </FieldSet>

      <FieldSet label="Windows">
        <Field label="Time zone" description="IANA zone of day windows; must match the aggregator's (default UTC)">
          {text('timeZone', selectors.config.timeZone, 'UTC', 30)}
        </Field>
      </FieldSet>
    </>
  );
}
