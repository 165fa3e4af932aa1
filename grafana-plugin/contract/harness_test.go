package contract

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/plugin"
)

// harness is what the tests run against: peers, the seeded world and the
// launched plugin.
type harness struct {
	bin    string
	kafka  *embedded.Kafka
	mongo  *embedded.Mongo
	client *goplugin.Client
	data   grpcplugin.DataClient
	diag   grpcplugin.DiagnosticsClient
	res    grpcplugin.ResourceClient
	stream grpcplugin.StreamClient
	world  *world
}

var h *harness

func TestMain(m *testing.M) {
	flag.Parse()
	// FerretDB logs every failed command through the default logger; the
	// tests report what matters themselves.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	if testing.Short() {
		os.Exit(m.Run()) // every test skips
	}
	dir, err := os.MkdirTemp("", "plugin-contract-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	h, err = start(dir)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "contract setup:", err)
	} else {
		code = m.Run()
	}
	h.stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need skips in -short mode and otherwise returns the harness.
func need(t *testing.T) *harness {
	t.Helper()
	if testing.Short() {
		t.Skip("contract tests build and launch the plugin binary; skipped with -short")
	}
	return h
}

// start builds and launches the plugin and starts its peers by hand rather
// than through embeddedtest: the binary, the peers and the seeded world are
// shared by every test of the package and outlive each one, so only
// TestMain can stop them.
func start(dir string) (*harness, error) {
	ctx := context.Background()
	h := &harness{}
	bin := filepath.Join(dir, "gpx_campaignpulse_"+runtime.GOOS+"_"+runtime.GOARCH)
	h.bin = bin
	build := exec.Command("go", "build", "-o", bin, "../pkg")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return h, fmt.Errorf("build plugin: %v\n%s", err, out)
	}
	var err error
	if h.kafka, err = embedded.StartKafka(""); err != nil {
		return h, err
	}
	if h.mongo, err = embedded.StartMongo(ctx, filepath.Join(dir, "ferretdb"), "", nil); err != nil {
		return h, err
	}
	if h.world, err = newWorld(ctx, h.mongo.URI(), h.kafka.Brokers()); err != nil {
		return h, fmt.Errorf("seed: %w", err)
	}
	return h, h.launch(bin)
}

// launch starts the binary the way Grafana's grpcplugin client does.
func (h *harness) launch(bin string) error {
	cmd := exec.Command(bin)
	cmd.Env = []string{"GF_VERSION=12.3.0", "GF_EDITION=oss"}
	h.client = goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{grpcplugin.ProtocolVersion: {
			"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
			"resource":    &grpcplugin.ResourceGRPCPlugin{},
			"data":        &grpcplugin.DataGRPCPlugin{},
			"stream":      &grpcplugin.StreamGRPCPlugin{},
		}},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		SkipHostEnv:      true,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Off}),
		StartTimeout:     30 * time.Second,
	})
	rpc, err := h.client.Client()
	if err != nil {
		return fmt.Errorf("start plugin: %w", err)
	}
	dispense := func(name string) (any, error) {
		raw, err := rpc.Dispense(name)
		if err != nil {
			return nil, fmt.Errorf("dispense %s: %w", name, err)
		}
		return raw, nil
	}
	var ok [4]bool
	raw, err := dispense("data")
	if err != nil {
		return err
	}
	h.data, ok[0] = raw.(grpcplugin.DataClient)
	if raw, err = dispense("diagnostics"); err != nil {
		return err
	}
	h.diag, ok[1] = raw.(grpcplugin.DiagnosticsClient)
	if raw, err = dispense("resource"); err != nil {
		return err
	}
	h.res, ok[2] = raw.(grpcplugin.ResourceClient)
	if raw, err = dispense("stream"); err != nil {
		return err
	}
	h.stream, ok[3] = raw.(grpcplugin.StreamClient)
	if ok != [4]bool{true, true, true, true} {
		return fmt.Errorf("dispensed clients of unexpected types: %v", ok)
	}
	return nil
}

func (h *harness) stop() {
	if h == nil {
		return
	}
	if h.client != nil {
		h.client.Kill()
	}
	if h.world != nil {
		h.world.close()
	}
	if h.kafka != nil {
		h.kafka.Close()
	}
	if h.mongo != nil {
		h.mongo.Close()
	}
}

// pluginContext is what Grafana sends with every call for a datasource;
// id selects the instance (one per datasource), database its MongoDB db.
func (h *harness) pluginContext(id int64, database string) backend.PluginContext {
	return h.pluginContextIn(id, database, "UTC")
}

// pluginContextIn is pluginContext with the datasource's jsonData.timeZone.
func (h *harness) pluginContextIn(id int64, database, timeZone string) backend.PluginContext {
	js, _ := json.Marshal(plugin.Settings{
		MongoDatabase:      database,
		KafkaBrokers:       h.kafka.Brokers()[0],
		KafkaConsumerGroup: consumerGroup,
		TimeZone:           timeZone,
	})
	return backend.PluginContext{
		OrgID:    1,
		PluginID: plugin.PluginID,
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			ID: id, UID: fmt.Sprintf("cp%d", id), Name: "campaignpulse", JSONData: js,
			DecryptedSecureJSONData: map[string]string{plugin.SecureMongoURI: h.mongo.URI()},
			Updated:                 time.Unix(1700000000, 0),
		},
	}
}
