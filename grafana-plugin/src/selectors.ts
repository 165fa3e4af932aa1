// data-testid values of the editors, shared by the components and their
// tests so a renamed control fails one place only.
export const selectors = {
  queryEditor: {
    queryType: 'cp-query-type',
    editor: (type: string) => `cp-editor-${type}`,
  },
  metrics: {
    measure: 'cp-metrics-measure',
    granularity: 'cp-metrics-granularity',
    format: 'cp-metrics-format',
    groupBy: (dim: string) => `cp-metrics-group-by-${dim}`,
    topN: 'cp-metrics-top-n',
    cumulative: 'cp-metrics-cumulative',
    live: 'cp-metrics-live',
  },
  filters: {
    input: (dim: string) => `cp-filter-${dim}`,
  },
  lag: {
    consumerGroup: 'cp-lag-consumer-group',
    topic: 'cp-lag-topic',
    measure: 'cp-lag-measure',
    alertingHint: 'cp-lag-alerting-hint',
  },
  variables: {
    dimension: 'cp-variables-dimension',
  },
  config: {
    mongoUri: 'cp-config-mongo-uri',
    mongoDatabase: 'cp-config-mongo-database',
    mongoUsername: 'cp-config-mongo-username',
    mongoPassword: 'cp-config-mongo-password',
    mongoAuthSource: 'cp-config-mongo-auth-source',
    mongoTls: 'cp-config-mongo-tls',
    mongoTlsSkipVerify: 'cp-config-mongo-tls-skip-verify',
    mongoTlsCaCert: 'cp-config-mongo-tls-ca-cert',
    mongoMaxTimeMs: 'cp-config-mongo-max-time-ms',
    kafkaBrokers: 'cp-config-kafka-brokers',
    kafkaConsumerGroup: 'cp-config-kafka-consumer-group',
    kafkaSaslMechanism: 'cp-config-kafka-sasl-mechanism',
    kafkaSaslUsername: 'cp-config-kafka-sasl-username',
    kafkaSaslPassword: 'cp-config-kafka-sasl-password',
    kafkaTls: 'cp-config-kafka-tls',
    kafkaTlsSkipVerify: 'cp-config-kafka-tls-skip-verify',
    kafkaTlsCaCert: 'cp-config-kafka-tls-ca-cert',
    timeZone: 'cp-config-time-zone',
  },
} as const;
