package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// PluginID is the id in plugin.json.
const PluginID = "campaignpulse-metrics-datasource"

// Datasource is one configured campaignpulse datasource.
type Datasource struct {
	cfg      *config
	mongo    *mongo.Client
	db       *mongo.Database
	kafka    *kgo.Client
	admin    *kadm.Client
	kafkaOpt []kgo.Opt // base options for short-lived consumers
	log      log.Logger
	now      func() time.Time
	resource backend.CallResourceHandler
}

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ backend.StreamHandler         = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// NewDatasource validates the settings and creates the clients. It does
// not contact MongoDB or Kafka (both clients connect lazily), so a
// datasource with an unreachable peer still loads and CheckHealth can say
// what is wrong.
func NewDatasource(_ context.Context, s backend.DataSourceInstanceSettings) (*Datasource, error) {
	cfg, err := loadConfig(s)
	if err != nil {
		return nil, fmt.Errorf("datasource settings: %w", err)
	}
	ds := &Datasource{cfg: cfg, log: backend.Logger, now: time.Now}
	if ds.mongo, err = newMongoClient(cfg); err != nil {
		return nil, err
	}
	ds.db = ds.mongo.Database(cfg.MongoDatabase)
	ds.kafkaOpt, err = kafkaOptions(cfg)
	if err != nil {
		_ = ds.mongo.Disconnect(context.Background())
		return nil, err
	}
	if ds.kafka, err = kgo.NewClient(ds.kafkaOpt...); err != nil {
		_ = ds.mongo.Disconnect(context.Background())
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	ds.admin = kadm.NewClient(ds.kafka)
	ds.resource = newResourceHandler(ds)
	return ds, nil
}

// Factory is NewDatasource as a datasource.InstanceFactoryFunc.
func Factory(ctx context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	return NewDatasource(ctx, s)
}

// Dispose closes the clients. Grafana calls it when the settings change and
// the instance is replaced.
func (ds *Datasource) Dispose() {
	ds.kafka.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ds.mongo.Disconnect(ctx); err != nil {
		ds.log.Warn("disconnect mongodb", "err", err)
	}
}
