package plugin

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const clientName = "campaignpulse-grafana"

func newMongoClient(c *config) (*mongo.Client, error) {
	opts := options.Client().ApplyURI(c.mongoURI).
		SetAppName(clientName).
		SetConnectTimeout(5 * time.Second).
		SetServerSelectionTimeout(5 * time.Second)
	if c.mongoTLS != nil {
		opts.SetTLSConfig(c.mongoTLS)
	}
	if c.MongoUsername != "" {
		opts.SetAuth(options.Credential{Username: c.MongoUsername, Password: c.mongoPassword, AuthSource: c.MongoAuthSource})
	}
	cl, err := mongo.Connect(opts)
	if err != nil {
		// The driver's message may quote the URI, which may hold a password.
		return nil, fmt.Errorf("secureJsonData.%s is not a usable MongoDB connection string (check scheme, host list and options)", SecureMongoURI)
	}
	return cl, nil
}

func kafkaOptions(c *config) ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.brokers...),
		kgo.ClientID(clientName),
		kgo.DialTimeout(5 * time.Second),
		kgo.RetryTimeout(10 * time.Second),
		kgo.MetadataMinAge(time.Second),
	}
	if c.kafkaTLS != nil {
		opts = append(opts, kgo.DialTLSConfig(c.kafkaTLS))
	}
	switch c.KafkaSASLMechanism {
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: c.KafkaSASLUsername, Pass: c.kafkaPassword}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.KafkaSASLUsername, Pass: c.kafkaPassword}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.KafkaSASLUsername, Pass: c.kafkaPassword}.AsSha512Mechanism()))
	}
	return opts, nil
}
