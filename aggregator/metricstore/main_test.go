package metricstore

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
)

// mongoURI is the embedded FerretDB shared by the package's tests; each test
// uses its own database.
var mongoURI string

// TestMain starts one FerretDB for the whole package rather than one per
// test through embeddedtest.Mongo: the tests are many small store
// operations on databases of their own, so a server each would spend most
// of the package's time starting servers, and a peer that outlives every
// test can only be stopped here.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "metricstore")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv, err := embedded.StartMongo(context.Background(), dir, "", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "embedded mongo:", err)
		os.Exit(1)
	}
	mongoURI = srv.URI()
	code := m.Run()
	srv.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// recorder keeps the commands the driver sends.
type recorder struct {
	mu   sync.Mutex
	cmds []bson.Raw
	on   atomic.Bool
}

func (r *recorder) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if r.on.Load() {
			r.mu.Lock()
			r.cmds = append(r.cmds, append(bson.Raw(nil), e.Command...))
			r.mu.Unlock()
		}
	}}
}

// named returns the recorded commands whose first key is name.
func (r *recorder) named(name string) []bson.Raw {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []bson.Raw
	for _, c := range r.cmds {
		if el, err := c.IndexErr(0); err == nil && el.Key() == name {
			out = append(out, c)
		}
	}
	return out
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.cmds = nil
	r.mu.Unlock()
}

// openStore connects to the shared FerretDB and opens a store on a database
// named after the test.
func openStore(t *testing.T, opts Options) (*Store, *recorder, *mongo.Client) {
	t.Helper()
	rec := &recorder{}
	rec.on.Store(true)
	mc, err := mongo.Connect(options.Client().ApplyURI(mongoURI).SetMonitor(rec.monitor()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	if opts.Database == "" {
		opts.Database = strings.NewReplacer("/", "_", " ", "_").Replace(strings.ToLower(t.Name()))
	}
	s, err := Open(t.Context(), mc, opts, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s, rec, mc
}
