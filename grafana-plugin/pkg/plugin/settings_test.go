package plugin

import (
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestLoadConfig(t *testing.T) {
	uri := map[string]string{SecureMongoURI: "mongodb://user:secret@mongo:27017"}
	good := Settings{KafkaBrokers: "k1:9092, k2:9092"}
	c, err := loadConfig(InstanceSettings(good, uri))
	if err != nil {
		t.Fatal(err)
	}
	if c.MongoDatabase != DefaultDatabase || c.KafkaConsumerGroup != DefaultConsumerGroup || c.loc.String() != "UTC" ||
		c.maxTime.Milliseconds() != DefaultMaxTimeMS || strings.Join(c.brokers, ",") != "k1:9092,k2:9092" {
		t.Errorf("defaults not applied: %+v", c)
	}

	tests := []struct {
		name   string
		s      Settings
		secure map[string]string
		want   string
	}{
		{"no uri", good, nil, "secureJsonData.mongoUri is required"},
		{"bad scheme", good, map[string]string{SecureMongoURI: "http://x"}, "must start with mongodb://"},
		{"no brokers", Settings{}, uri, "jsonData.kafkaBrokers is required"},
		{"bad zone", Settings{KafkaBrokers: "k:1", TimeZone: "Mars/Base"}, uri, `jsonData.timeZone "Mars/Base"`},
		{"bad database", Settings{KafkaBrokers: "k:1", MongoDatabase: "a.b"}, uri, "jsonData.mongoDatabase"},
		{"max time", Settings{KafkaBrokers: "k:1", MongoMaxTimeMS: 10_000_000}, uri, "jsonData.mongoMaxTimeMs"},
		{"sasl without password", Settings{KafkaBrokers: "k:1", KafkaSASLMechanism: "PLAIN", KafkaSASLUsername: "u"}, uri, "secureJsonData.kafkaSaslPassword"},
		{"unknown sasl", Settings{KafkaBrokers: "k:1", KafkaSASLMechanism: "GSSAPI"}, uri, `jsonData.kafkaSaslMechanism "GSSAPI"`},
		{"user without password", Settings{KafkaBrokers: "k:1", MongoUsername: "u"}, uri, "secureJsonData.mongoPassword is empty"},
		{"ca without tls", Settings{KafkaBrokers: "k:1", KafkaTLSCACert: "x"}, uri, "jsonData.kafkaTlsCaCert is set but TLS is off"},
		{"ca not pem", Settings{KafkaBrokers: "k:1", MongoTLS: true, MongoTLSCACert: "x"}, uri, "jsonData.mongoTlsCaCert holds no PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(InstanceSettings(tt.s, tt.secure))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestNewDatasourceHidesURIErrors(t *testing.T) {
	_, err := NewDatasource(t.Context(), InstanceSettings(Settings{KafkaBrokers: "k:1"},
		map[string]string{SecureMongoURI: "mongodb://user:secret@host:99999999/?bogus=%zz"}))
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v: want an error that does not quote the URI", err)
	}
}

func TestErrorResponse(t *testing.T) {
	if r := errorResponse(downstream("aggregate x", errTest)); r.Status != backend.StatusBadGateway || r.ErrorSource != backend.ErrorSourceDownstream {
		t.Errorf("downstream: %d %s", r.Status, r.ErrorSource)
	}
	if r := errorResponse(errTest); r.Status != backend.StatusInternal {
		t.Errorf("plugin error: %d", r.Status)
	}
}

var errTest = &testError{}

type testError struct{}

func (*testError) Error() string { return "boom" }

func TestTimeSeriesState(t *testing.T) {
	ttl, _ := bson.Marshal(bson.D{{Key: "timeseries", Value: bson.D{{Key: "timeField", Value: "window_start"}}}, {Key: "expireAfterSeconds", Value: int64(7776000)}})
	noTTL, _ := bson.Marshal(bson.D{{Key: "timeseries", Value: bson.D{}}})
	for _, tt := range []struct {
		typ  string
		opts bson.Raw
		want string
	}{
		{"timeseries", ttl, "time-series collection, expireAfterSeconds 7776000"},
		{"timeseries", noTTL, "WITHOUT expireAfterSeconds"},
		{"collection", nil, "regular collection (fallback"},
	} {
		if got := timeSeriesState(tt.typ, tt.opts); !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.typ, got, tt.want)
		}
	}
}
