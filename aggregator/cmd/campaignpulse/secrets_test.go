package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// TestSecretsNeverLogged runs the long-running subcommands with secrets in
// their configuration against peers that do not answer, and greps every log
// line and the returned error for the secrets.
func TestSecretsNeverLogged(t *testing.T) {
	const (
		mongoPassword = "mongo-pw-Zq81xK"
		pushToken     = "push-token-Wm27aP"
		pullToken     = "pull-token-Yt55cL"
	)
	// A port nothing listens on, so connections are refused quickly.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()

	tests := []struct {
		name string
		run  func(context.Context, []string, *slog.Logger) error
		args []string
	}{
		{"aggregate", runAggregate, []string{
			"--kafka.brokers", dead,
			"--mongo.uri", "mongodb://campaignpulse:" + mongoPassword + "@" + dead + "/?authSource=admin",
			"--mongo.server-selection-timeout", "200ms",
			"--http.addr", "127.0.0.1:0",
		}},
		{"ingest", runIngest, []string{
			"--kafka.brokers", dead,
			"--push.addr", "127.0.0.1:0", "--http.addr", "127.0.0.1:0", "--push.token", pushToken,
			"--appsflyer.base-url", "http://" + dead, "--appsflyer.token", pullToken, "--pull.apps", "id123456789",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			err := tt.run(ctx, tt.args, log)
			out := logs.String()
			if err != nil {
				out += "\n" + err.Error()
			}
			t.Logf("%s output:\n%s", tt.name, out)
			if out == "" {
				t.Fatal("the command logged nothing: the check would be empty")
			}
			for _, s := range []string{mongoPassword, pushToken, pullToken} {
				if strings.Contains(out, s) {
					t.Fatalf("secret %q appears in the output:\n%s", s, out)
				}
			}
		})
	}
}
