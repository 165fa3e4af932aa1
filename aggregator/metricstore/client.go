package metricstore

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// Flag names of the connection settings.
const (
	FlagURI                    = "mongo.uri"
	FlagPassword               = "mongo.password"
	FlagServerSelectionTimeout = "mongo.server-selection-timeout"
	FlagTimeout                = "mongo.timeout"
)

// ClientOptions say how to reach MongoDB. URI and Password are secrets:
// they come from flags, the environment or files and never reach a log or an
// error message.
type ClientOptions struct {
	URI                    string
	Password               string
	ServerSelectionTimeout time.Duration
	Timeout                time.Duration
}

// RegisterFlags registers the connection settings, each secret with its
// -file twin.
func (o *ClientOptions) RegisterFlags(fs *flag.FlagSet) {
	settings.Secret(fs, &o.URI, FlagURI, "mongodb://localhost:27017", "MongoDB connection string (prefer --mongo.uri-file; never logged)", "file holding the MongoDB connection string; wins over --mongo.uri")
	settings.Secret(fs, &o.Password, FlagPassword, "", "password for the user named in the URI (prefer --mongo.password-file)", "file holding the MongoDB password; wins over --mongo.password")
	fs.DurationVar(&o.ServerSelectionTimeout, FlagServerSelectionTimeout, 5*time.Second, "how long one operation waits for a reachable server")
	fs.DurationVar(&o.Timeout, FlagTimeout, 30*time.Second, "timeout of one MongoDB operation")
}

// Connect creates a client (the driver connects lazily). Its errors never
// quote the URI, which may hold a password.
func (o ClientOptions) Connect(appName string) (*mongo.Client, error) {
	copts := options.Client().ApplyURI(o.URI).SetServerSelectionTimeout(o.ServerSelectionTimeout).SetTimeout(o.Timeout).SetAppName(appName)
	if err := copts.Validate(); err != nil {
		return nil, fmt.Errorf("%s: invalid connection string", FlagURI) // the driver's message may quote the URI
	}
	if o.Password != "" {
		if copts.Auth == nil || copts.Auth.Username == "" {
			return nil, fmt.Errorf("%s: set, but --%s names no user", FlagPassword, FlagURI)
		}
		copts.Auth.Password, copts.Auth.PasswordSet = o.Password, true
	}
	mc, err := mongo.Connect(copts)
	if err != nil {
		return nil, errors.New(FlagURI + ": cannot create a client from the connection string")
	}
	return mc, nil
}
