package plugin

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Settings is the datasource's jsonData. Nothing is read from the
// environment: Grafana 12.4+ does not pass it to plugin processes, so every
// setting arrives through provisioning or the config page.
type Settings struct {
	// MongoDatabase is the database the aggregator writes. Default "campaignpulse".
	MongoDatabase string `json:"mongoDatabase"`
	// MongoUsername authenticates with secureJsonData.mongoPassword when the
	// URI carries no credentials. Default: none.
	MongoUsername string `json:"mongoUsername"`
	// MongoAuthSource is the authentication database. Default: the driver's ("admin").
	MongoAuthSource string `json:"mongoAuthSource"`
	// MongoTLS turns TLS on (also possible with tls=true in the URI). Default false.
	MongoTLS bool `json:"mongoTls"`
	// MongoTLSCACert is a PEM bundle trusted for MongoDB. Default: system roots.
	MongoTLSCACert string `json:"mongoTlsCaCert"`
	// MongoTLSSkipVerify disables certificate checks (test setups only). Default false.
	MongoTLSSkipVerify bool `json:"mongoTlsSkipVerify"`
	// MongoMaxTimeMS bounds every aggregation on the server (maxTimeMS). Default 10000, at most 120000.
	MongoMaxTimeMS int64 `json:"mongoMaxTimeMs"`

	// KafkaBrokers is a comma-separated list of seed brokers. Required.
	KafkaBrokers string `json:"kafkaBrokers"`
	// KafkaConsumerGroup is the aggregator's consumer group (its
	// --kafka.group), the default of lag queries. Default
	// "campaignpulse-aggregate".
	KafkaConsumerGroup string `json:"kafkaConsumerGroup"`
	// KafkaRawTopic is the raw event topic (--kafka.raw-topic of ingest and
	// the aggregator), the default of lag queries. Default "raw_events".
	KafkaRawTopic string `json:"kafkaRawTopic"`
	// KafkaAggregatedTopic is the topic the aggregator sends changed windows
	// to (--kafka.aggregated-topic), followed by live streams. Default
	// "aggregated_metrics".
	KafkaAggregatedTopic string `json:"kafkaAggregatedTopic"`
	// KafkaSASLMechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. Default: no SASL.
	KafkaSASLMechanism string `json:"kafkaSaslMechanism"`
	// KafkaSASLUsername goes with secureJsonData.kafkaSaslPassword.
	KafkaSASLUsername string `json:"kafkaSaslUsername"`
	// KafkaTLS turns TLS on for Kafka. Default false.
	KafkaTLS bool `json:"kafkaTls"`
	// KafkaTLSCACert is a PEM bundle trusted for Kafka. Default: system roots.
	KafkaTLSCACert string `json:"kafkaTlsCaCert"`
	// KafkaTLSSkipVerify disables certificate checks (test setups only). Default false.
	KafkaTLSSkipVerify bool `json:"kafkaTlsSkipVerify"`

	// TimeZone is the IANA zone of day windows; it must match the
	// aggregator's. Default "UTC".
	TimeZone string `json:"timeZone"`
}

// Keys of secureJsonData.
const (
	SecureMongoURI          = "mongoUri"          // mongodb:// or mongodb+srv:// URI, required
	SecureMongoPassword     = "mongoPassword"     // with jsonData.mongoUsername
	SecureKafkaSASLPassword = "kafkaSaslPassword" // with jsonData.kafkaSaslUsername
)

// Defaults of Settings.
const (
	DefaultDatabase      = metricdoc.DefaultDatabase
	DefaultConsumerGroup = metricdoc.DefaultConsumerGroup
	DefaultMaxTimeMS     = 10000
	maxMaxTimeMS         = 120000
)

// config is Settings checked and resolved.
type config struct {
	Settings
	mongoURI      string
	mongoPassword string
	kafkaPassword string
	brokers       []string
	loc           *time.Location
	maxTime       time.Duration
	mongoTLS      *tls.Config
	kafkaTLS      *tls.Config
}

// loadConfig reads and validates the instance settings. Messages name the
// setting to fix and never contain a secret.
func loadConfig(s backend.DataSourceInstanceSettings) (*config, error) {
	c := &config{}
	if len(s.JSONData) > 0 && string(s.JSONData) != "null" {
		if err := json.Unmarshal(s.JSONData, &c.Settings); err != nil {
			return nil, fmt.Errorf("jsonData: %w", err)
		}
	}
	c.mongoURI = strings.TrimSpace(s.DecryptedSecureJSONData[SecureMongoURI])
	c.mongoPassword = s.DecryptedSecureJSONData[SecureMongoPassword]
	c.kafkaPassword = s.DecryptedSecureJSONData[SecureKafkaSASLPassword]
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *config) validate() error {
	if c.MongoDatabase == "" {
		c.MongoDatabase = DefaultDatabase
	}
	if c.KafkaConsumerGroup == "" {
		c.KafkaConsumerGroup = DefaultConsumerGroup
	}
	if c.KafkaRawTopic == "" {
		c.KafkaRawTopic = metricdoc.TopicRawEvents
	}
	if c.KafkaAggregatedTopic == "" {
		c.KafkaAggregatedTopic = metricdoc.TopicAggregated
	}
	if c.TimeZone == "" {
		c.TimeZone = "UTC"
	}
	if c.MongoMaxTimeMS == 0 {
		c.MongoMaxTimeMS = DefaultMaxTimeMS
	}
	switch {
	case c.mongoURI == "":
		return fmt.Errorf("secureJsonData.%s is required (e.g. mongodb://mongo:27017)", SecureMongoURI)
	case !strings.HasPrefix(c.mongoURI, "mongodb://") && !strings.HasPrefix(c.mongoURI, "mongodb+srv://"):
		return fmt.Errorf("secureJsonData.%s must start with mongodb:// or mongodb+srv://", SecureMongoURI)
	case strings.ContainsAny(c.MongoDatabase, "/\\. \"$") || len(c.MongoDatabase) > 63:
		return fmt.Errorf("jsonData.mongoDatabase %q is not a valid database name", c.MongoDatabase)
	case c.MongoMaxTimeMS < 0 || c.MongoMaxTimeMS > maxMaxTimeMS:
		return fmt.Errorf("jsonData.mongoMaxTimeMs %d is out of range 1..%d", c.MongoMaxTimeMS, maxMaxTimeMS)
	case c.MongoUsername != "" && c.mongoPassword == "":
		return fmt.Errorf("jsonData.mongoUsername is set but secureJsonData.%s is empty", SecureMongoPassword)
	}
	c.maxTime = time.Duration(c.MongoMaxTimeMS) * time.Millisecond
	for _, b := range strings.Split(c.KafkaBrokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.brokers = append(c.brokers, b)
		}
	}
	if len(c.brokers) == 0 {
		return fmt.Errorf("jsonData.kafkaBrokers is required (comma-separated host:port list)")
	}
	switch c.KafkaSASLMechanism {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.KafkaSASLUsername == "" || c.kafkaPassword == "" {
			return fmt.Errorf("jsonData.kafkaSaslMechanism %s needs jsonData.kafkaSaslUsername and secureJsonData.%s", c.KafkaSASLMechanism, SecureKafkaSASLPassword)
		}
	default:
		return fmt.Errorf("jsonData.kafkaSaslMechanism %q is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", c.KafkaSASLMechanism)
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return fmt.Errorf("jsonData.timeZone %q is not an IANA time zone: %w", c.TimeZone, err)
	}
	c.loc = loc
	if c.mongoTLS, err = tlsConfig(c.MongoTLS, c.MongoTLSCACert, c.MongoTLSSkipVerify, "mongoTlsCaCert"); err != nil {
		return err
	}
	if c.kafkaTLS, err = tlsConfig(c.KafkaTLS, c.KafkaTLSCACert, c.KafkaTLSSkipVerify, "kafkaTlsCaCert"); err != nil {
		return err
	}
	return nil
}

func tlsConfig(on bool, caPEM string, skipVerify bool, field string) (*tls.Config, error) {
	if !on {
		if caPEM != "" {
			return nil, fmt.Errorf("jsonData.%s is set but TLS is off", field)
		}
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: skipVerify} //nolint:gosec // opt-in for test setups
	if caPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(caPEM)) {
			return nil, fmt.Errorf("jsonData.%s holds no PEM certificate", field)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// InstanceSettings builds what Grafana would pass for a provisioned
// datasource, for running the plugin in-process (the all-in-one binary)
// and in tests. secure holds the secureJsonData keys (SecureMongoURI, ...).
func InstanceSettings(s Settings, secure map[string]string) backend.DataSourceInstanceSettings {
	js, _ := json.Marshal(s) // a struct of strings, bools and ints always marshals
	return backend.DataSourceInstanceSettings{
		ID: 1, UID: "campaignpulse", Name: "campaignpulse", Type: PluginID,
		JSONData: js, DecryptedSecureJSONData: secure,
	}
}
