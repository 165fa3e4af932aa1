package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

const healthTimeout = 8 * time.Second

// health collects what the check found; problems make the check fail,
// notes are reported with an OK result.
type health struct {
	problems []string
	notes    []string
	details  map[string]any
}

func (h *health) problem(format string, a ...any) {
	h.problems = append(h.problems, fmt.Sprintf(format, a...))
}
func (h *health) note(format string, a ...any) { h.notes = append(h.notes, fmt.Sprintf(format, a...)) }

// CheckHealth pings MongoDB, checks the collections the aggregator creates
// (and whether hourly/daily are time-series with TTL or the regular
// fallback), checks Kafka metadata and the topics, and says what to fix.
func (ds *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	h := &health{details: map[string]any{}}
	ds.checkMongo(ctx, h)
	ds.checkKafka(ctx, h)
	details, _ := json.Marshal(h.details)
	if len(h.problems) > 0 {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: strings.Join(h.problems, "; "), JSONDetails: details}, nil
	}
	msg := "campaignpulse datasource is working"
	if len(h.notes) > 0 {
		msg += ": " + strings.Join(h.notes, "; ")
	}
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: msg, JSONDetails: details}, nil
}

func (ds *Datasource) checkMongo(ctx context.Context, h *health) {
	db := ds.cfg.MongoDatabase
	if err := ds.mongo.Ping(ctx, readpref.Primary()); err != nil {
		h.problem("MongoDB is not reachable (%v): check secureJsonData.%s, TLS settings and that the server runs", err, SecureMongoURI)
		return
	}
	specs, err := ds.db.ListCollectionSpecifications(ctx, bson.D{})
	if err != nil {
		h.problem("cannot list collections of database %q (%v): check the user's permissions", db, err)
		return
	}
	found := map[string]bool{}
	colls := map[string]string{}
	for _, s := range specs {
		found[s.Name] = true
		if s.Name == metricdoc.CollHourly || s.Name == metricdoc.CollDaily {
			colls[s.Name] = timeSeriesState(s.Type, s.Options)
		}
	}
	var missing []string
	for _, c := range []string{metricdoc.CollLive, metricdoc.CollHourly, metricdoc.CollDaily, metricdoc.CollCheckpoints, metricdoc.CollFreshness} {
		if !found[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		h.problem("MongoDB database %q lacks collection(s) %s: start the aggregator once (it creates them) or fix jsonData.mongoDatabase", db, strings.Join(missing, ", "))
	}
	for _, c := range []string{metricdoc.CollHourly, metricdoc.CollDaily} {
		if st, ok := colls[c]; ok {
			h.note("%s: %s", c, st)
		}
	}
	if found[metricdoc.CollLive] {
		h.note("%s: %s", metricdoc.CollLive, ds.liveTTLState(ctx))
	}
	if found[metricdoc.CollCheckpoints] {
		if cps, err := ds.checkpoints(ctx); err == nil {
			hour, day := metricdoc.FinalizedThrough(cps, metricdoc.Hour), metricdoc.FinalizedThrough(cps, metricdoc.Day)
			h.note("finalized through %s (hour), %s (day)", formatTime(hour), formatTime(day))
			ds.checkTimeZone(cps, h)
		}
	}
	h.details["mongo"] = map[string]any{"database": db, "collections": colls}
}

// checkTimeZone compares the datasource's zone with the zone the aggregator
// cut its day windows in (recorded in each checkpoint): when they differ,
// "today" starts at a different hour in the panels than in the data and
// every daily number is wrong without any error.
func (ds *Datasource) checkTimeZone(cps []metricdoc.Checkpoint, h *health) {
	var zones []string
	for _, cp := range cps {
		if cp.TimeZone != "" && !slices.Contains(zones, cp.TimeZone) {
			zones = append(zones, cp.TimeZone)
		}
	}
	if len(zones) == 0 {
		return // checkpoints written before the zone was recorded
	}
	slices.Sort(zones)
	h.details["aggregatorTimeZones"] = zones
	if len(zones) == 1 && zones[0] == ds.cfg.TimeZone {
		return
	}
	h.problem("time zone mismatch: jsonData.timeZone is %q but the aggregator cuts day windows in %s (recorded in its checkpoints): "+
		"set both from one setting (CAMPAIGNPULSE_TIMEZONE in the compose deployment), else daily numbers start at the wrong hour",
		ds.cfg.TimeZone, strings.Join(zones, ", "))
}

// liveTTLState says whether live_metrics has the TTL index on expire_at
// that removes finalized documents.
func (ds *Datasource) liveTTLState(ctx context.Context) string {
	specs, err := ds.db.Collection(metricdoc.CollLive).Indexes().ListSpecifications(ctx)
	if err != nil {
		return fmt.Sprintf("indexes not readable (%v)", err)
	}
	for _, s := range specs {
		if _, err := s.KeysDocument.LookupErr(metricdoc.FieldExpireAt); err == nil && s.ExpireAfterSeconds != nil {
			return "TTL index on " + metricdoc.FieldExpireAt
		}
	}
	return "no TTL index on " + metricdoc.FieldExpireAt + ": finalized live documents are never removed (the aggregator creates it)"
}

// timeSeriesState describes a final-window collection: a time-series
// collection with its TTL, or the regular-collection fallback the
// aggregator uses on servers without time-series support.
func timeSeriesState(typ string, opts bson.Raw) string {
	if typ != "timeseries" {
		return "regular collection (fallback for servers without time-series support; the aggregator expires old windows itself)"
	}
	ttl, ok := opts.Lookup("expireAfterSeconds").AsInt64OK()
	if !ok {
		return "time-series collection WITHOUT expireAfterSeconds: data is never expired, set it with collMod"
	}
	return fmt.Sprintf("time-series collection, expireAfterSeconds %d", ttl)
}

func (ds *Datasource) checkKafka(ctx context.Context, h *health) {
	brokers := strings.Join(ds.cfg.brokers, ",")
	md, err := ds.admin.Metadata(ctx, ds.cfg.KafkaRawTopic, ds.cfg.KafkaAggregatedTopic)
	if err != nil {
		h.problem("Kafka brokers %s are not reachable (%v): check jsonData.kafkaBrokers and the SASL/TLS settings", brokers, err)
		return
	}
	topics := map[string]int{}
	for _, t := range []string{ds.cfg.KafkaRawTopic, ds.cfg.KafkaAggregatedTopic} {
		td, ok := md.Topics[t]
		if !ok || td.Err != nil {
			h.problem("Kafka topic %s is missing: create the topics (campaignpulse topics) or fix jsonData.kafkaBrokers", t)
			continue
		}
		topics[t] = len(td.Partitions)
	}
	h.note("Kafka: %d broker(s)", len(md.Brokers))
	h.details["kafka"] = map[string]any{"brokers": len(md.Brokers), "topics": topics, "consumerGroup": ds.cfg.KafkaConsumerGroup}
}
