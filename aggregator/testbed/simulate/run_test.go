package simulate

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

func TestRunServesPullAndPushes(t *testing.T) {
	rc, ts := newReceiver(t, nil)
	addr := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs strings.Builder
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(b)
	}), nil))
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Seed:          5,
			Traffic:       TrafficOptions{Rate: 2000, DropShare: 0.1},
			Listen:        "127.0.0.1:0",
			Server:        ServerOptions{Tokens: []string{testToken}},
			Push:          PusherOptions{URL: ts.URL, Token: "push-s3cret"},
			Count:         300,
			StatsInterval: 20 * time.Millisecond,
			OnListen:      func(a string) { addr <- a },
		}, log)
	}()
	base := "http://" + <-addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		logMu.Lock()
		finished := strings.Contains(logs.String(), "simulated traffic finished")
		logMu.Unlock()
		if finished {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("traffic did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rc.mu.Lock()
	got := len(rc.bodies)
	rc.mu.Unlock()
	if got < 200 || got >= 300 {
		t.Fatalf("receiver got %d pushes of 300 deliveries with 10%% dropped", got)
	}
	// The Pull API keeps serving the same world after the traffic ends.
	w := mustWorld(t, 5)
	req, _ := http.NewRequest(http.MethodGet, base+"/api/raw-data/export/app/"+w.Apps[0].ID+"/"+appsflyer.ReportInstalls+"/v5?from="+
		time.Now().UTC().Add(-time.Hour).Format("2006-01-02")+"&to="+time.Now().UTC().Add(time.Hour).Format("2006-01-02"), nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Count(string(body), "\n") < 2 {
		t.Fatalf("pull: %d, %d lines", resp.StatusCode, strings.Count(string(body), "\n"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "push-s3cret") || strings.Contains(logs.String(), testToken) {
		t.Fatal("a token was logged")
	}
	if !strings.Contains(logs.String(), "events_per_s") {
		t.Fatal("no progress line logged")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func TestRunOptionsValidate(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for name, o := range map[string]Options{
		FlagListen + " and " + FlagPushURL: {},
		FlagCount:                          {Listen: "127.0.0.1:0", Count: -1},
		FlagPullToken:                      {Listen: "127.0.0.1:0"},
		FlagRate:                           {Listen: "127.0.0.1:0", Traffic: TrafficOptions{Rate: -5}},
	} {
		if err := Run(context.Background(), o, log); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want one naming the option", name, err)
		}
	}
}

// TestFlagsAndLibraryShareDefaults: options parsed from an empty command
// line and zero options given to WithDefaults are the same simulation,
// except for the settings whose zero means something to a library caller
// (seed 0, no Pull API); 0 and the words of --pull.quota parse as documented.
func TestFlagsAndLibraryShareDefaults(t *testing.T) {
	parse := func(args ...string) Options {
		t.Helper()
		fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
		var o Options
		o.RegisterFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return o
	}
	fromFlags := parse()
	lib := Options{Seed: fromFlags.Seed, Listen: fromFlags.Listen, Now: time.Now}.WithDefaults()
	fromFlags.Now, lib.Now = nil, nil
	lib.Traffic.Start = time.Time{}
	if !reflect.DeepEqual(fromFlags, lib) {
		t.Fatalf("flag defaults\n%+v\ndiffer from WithDefaults\n%+v", fromFlags, lib)
	}
	if o := (Options{}).WithDefaults(); o.Seed != 0 || o.Listen != "" {
		t.Fatalf("WithDefaults gave seed %d and listen %q to a library caller, want 0 and none", o.Seed, o.Listen)
	}
	o := parse("--pull.quota", "unlimited", "--sim.stats-interval", "0", "--push.retry-interval", "off", "--pull.token", "a,b")
	if o.Server.QuotaPerDay != -1 || o.StatsInterval != settings.Off || o.Push.RetryInterval != settings.Off || len(o.Server.Tokens) != 2 {
		t.Fatalf("quota %d, stats interval %v, retry interval %v, tokens %d", o.Server.QuotaPerDay, o.StatsInterval, o.Push.RetryInterval, len(o.Server.Tokens))
	}
	if o = parse("--pull.quota", "12"); o.Server.QuotaPerDay != 12 {
		t.Fatalf("quota %d, want 12", o.Server.QuotaPerDay)
	}
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	new(Options).RegisterFlags(fs)
	if err := fs.Parse([]string{"--pull.quota", "0"}); err == nil || !strings.Contains(err.Error(), FlagQuota) {
		t.Fatalf("--pull.quota 0: %v, want an error naming the flag", err)
	}
}
