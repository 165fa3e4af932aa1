package plugin

import (
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// FuzzLoadConfig feeds arbitrary datasource settings (jsonData as an admin
// or a provisioning file writes it, plus a secret URI) to loadConfig: it
// must never panic, and no error message may echo the secrets.
func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte(`{"mongoDatabase":"campaignpulse","kafkaBrokers":"kafka:9092","timeZone":"Europe/Paris","mongoMaxTimeMs":5000}`), "mongodb://u:s3cret-pw@mongo:27017/?authSource=admin")
	f.Add([]byte(`{"kafkaBrokers":"","kafkaSaslMechanism":"SCRAM-SHA-512","kafkaTls":true}`), "mongodb+srv://cluster.example")
	f.Add([]byte(`{"timeZone":"Mars/Olympus","mongoMaxTimeMs":-1}`), "not a uri")
	f.Add([]byte(`null`), "")
	f.Fuzz(func(t *testing.T, jsonData []byte, uri string) {
		const secret = "s3cret-pw-xyz"
		_, err := loadConfig(backend.DataSourceInstanceSettings{
			JSONData: jsonData,
			DecryptedSecureJSONData: map[string]string{
				SecureMongoURI:          uri,
				SecureMongoPassword:     secret,
				SecureKafkaSASLPassword: secret,
			},
		})
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Fatalf("error message leaks a secret: %v", err)
		}
		if err != nil && len(uri) > 12 && strings.Contains(uri, "@") && strings.Contains(err.Error(), uri) {
			t.Fatalf("error message echoes the MongoDB URI: %v", err)
		}
	})
}
