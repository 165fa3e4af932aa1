package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/status"
)

func init() {
	register("status", "topics, consumer lag, pull cursors, checkpoints and store usage, as tables or --json", runStatus)
}

// runStatus prints the pipeline's state as read from Kafka and MongoDB. It
// exits non-zero when a section could not be read (the rest is printed).
func runStatus(ctx context.Context, args []string, _ *slog.Logger) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	var (
		brokers, uri, uriFile, pw, pwFile string
		o                                 status.Options
		database                          string
		asJSON                            bool
		timeout                           time.Duration
	)
	fs.StringVar(&brokers, "kafka.brokers", "localhost:9092", "comma-separated seed brokers")
	fs.StringVar(&o.Group, "kafka.group", "campaignpulse-aggregate", "the aggregators' consumer group")
	fs.StringVar(&o.RawTopic, "kafka.raw-topic", metricdoc.TopicRawEvents, "topic of raw events")
	fs.StringVar(&o.CursorTopic, "kafka.cursor-topic", publish.DefaultCursorTopic, "compacted topic holding the pull poller's cursors")
	fs.StringVar(&uri, "mongo.uri", "mongodb://localhost:27017", "MongoDB connection string (prefer --mongo.uri-file; never logged)")
	fs.StringVar(&uriFile, "mongo.uri-file", "", "file holding the MongoDB connection string; wins over --mongo.uri")
	fs.StringVar(&pw, "mongo.password", "", "password for the user named in the URI (prefer --mongo.password-file)")
	fs.StringVar(&pwFile, "mongo.password-file", "", "file holding the MongoDB password; wins over --mongo.password")
	fs.StringVar(&database, "mongo.database", "campaignpulse", "database of the metric collections")
	fs.BoolVar(&asJSON, "json", false, "print one JSON document instead of tables")
	fs.DurationVar(&timeout, "status.timeout", 20*time.Second, "give up reading after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	o.Topics = []string{o.RawTopic, metricdoc.TopicDLQ, metricdoc.TopicAggregated, o.CursorTopic}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var err error
	if uri, err = readSecret(uri, uriFile); err != nil {
		return fmt.Errorf("mongo.uri-file: %w", err)
	}
	if pw, err = readSecret(pw, pwFile); err != nil {
		return fmt.Errorf("mongo.password-file: %w", err)
	}
	copts := options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second).SetAppName("campaignpulse-status")
	if err := copts.Validate(); err != nil {
		return errors.New("mongo.uri: invalid connection string") // the driver's message may quote the URI
	}
	if pw != "" {
		if copts.Auth == nil || copts.Auth.Username == "" {
			return errors.New("mongo.password: set, but --mongo.uri names no user")
		}
		copts.Auth.Password, copts.Auth.PasswordSet = pw, true
	}
	mc, err := mongo.Connect(copts)
	if err != nil {
		return errors.New("mongo.uri: cannot create a client from the connection string")
	}
	defer func() { _ = mc.Disconnect(context.WithoutCancel(ctx)) }()
	o.ConsumerOpts = []kgo.Opt{kgo.SeedBrokers(splitList(brokers)...), kgo.ClientID("campaignpulse-status")}
	cl, err := kgo.NewClient(o.ConsumerOpts...)
	if err != nil {
		return fmt.Errorf("kafka.brokers: %w", err)
	}
	defer cl.Close()

	r := status.Collect(ctx, kadm.NewClient(cl), mc.Database(database), o)
	if asJSON {
		err = r.WriteJSON(os.Stdout)
	} else {
		err = r.WriteText(os.Stdout)
	}
	if err != nil {
		return err
	}
	if len(r.Problems) > 0 {
		return fmt.Errorf("%d section(s) could not be read", len(r.Problems))
	}
	return nil
}
