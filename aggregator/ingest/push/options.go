package push

import (
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// Options configures the receiver.
type Options struct {
	// Addr is the listen address. Default ":8080".
	Addr string
	// Path is the postback path (POST JSON, GET query form). Default "/v1/push".
	Path string
	// TokenHeader is the header AppsFlyer sends the push token in (the Push
	// API's token_name). Default "Authorization".
	TokenHeader string
	// Token is the expected header value. Required unless AllowNoAuth. Never
	// logged.
	Token string
	// AllowNoAuth accepts unauthenticated pushes (local demos only). Default false.
	AllowNoAuth bool
	// MaxBodyBytes caps a POST body. Default 64 KiB.
	MaxBodyBytes int64
	// ReadHeaderTimeout bounds reading request headers. Default 5s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, against slow bodies. Default 10s.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end
	// of the answer; it must exceed ProduceTimeout. Default 30s.
	WriteTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections. Default 60s.
	IdleTimeout time.Duration
	// ProduceTimeout bounds the wait for Kafka's ack; on expiry the answer is
	// 503. Default 10s.
	ProduceTimeout time.Duration
	// ShutdownTimeout bounds the drain of in-flight requests on shutdown.
	// Default 20s.
	ShutdownTimeout time.Duration
}

// Flag names of the receiver's settings.
const (
	FlagAddr              = "push.addr"
	FlagPath              = "push.path"
	FlagTokenHeader       = "push.token-header"
	FlagToken             = "push.token"
	FlagAllowNoAuth       = "push.allow-no-auth"
	FlagMaxBodyBytes      = "push.max-body-bytes"
	FlagReadHeaderTimeout = "push.read-header-timeout"
	FlagReadTimeout       = "push.read-timeout"
	FlagWriteTimeout      = "push.write-timeout"
	FlagIdleTimeout       = "push.idle-timeout"
	FlagProduceTimeout    = "push.produce-timeout"
	FlagShutdownTimeout   = "push.shutdown-timeout"
)

// RegisterFlags registers the --push.* settings of the receiver; the
// defaults written here are the only ones.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Addr, FlagAddr, ":8080", "listen address of the push receiver (the push path and /healthz only)")
	fs.StringVar(&o.Path, FlagPath, "/v1/push", "postback path: POST JSON or GET query form")
	fs.StringVar(&o.TokenHeader, FlagTokenHeader, "Authorization", "header AppsFlyer sends the push token in (Push API token_name)")
	settings.Secret(fs, &o.Token, FlagToken, "", "expected push token (prefer CAMPAIGNPULSE_PUSH_TOKEN_FILE)", "file holding the push token; wins over --push.token")
	fs.BoolVar(&o.AllowNoAuth, FlagAllowNoAuth, false, "accept unauthenticated pushes (local demos only)")
	fs.Int64Var(&o.MaxBodyBytes, FlagMaxBodyBytes, 64<<10, "largest accepted POST body (413 above)")
	fs.DurationVar(&o.ReadHeaderTimeout, FlagReadHeaderTimeout, 5*time.Second, "time to read request headers")
	fs.DurationVar(&o.ReadTimeout, FlagReadTimeout, 10*time.Second, "time to read a whole request (slow bodies are cut)")
	fs.DurationVar(&o.WriteTimeout, FlagWriteTimeout, 30*time.Second, "time from headers read to answer written; > --push.produce-timeout")
	fs.DurationVar(&o.IdleTimeout, FlagIdleTimeout, 60*time.Second, "how long an idle keep-alive connection stays open")
	fs.DurationVar(&o.ProduceTimeout, FlagProduceTimeout, 10*time.Second, "wait for Kafka's ack before answering 503")
	fs.DurationVar(&o.ShutdownTimeout, FlagShutdownTimeout, 20*time.Second, "drain time for in-flight pushes on SIGTERM")
}

// WithDefaults returns o with zero settings replaced by their defaults.
func (o Options) WithDefaults() Options {
	return settings.WithDefaults(o, (*Options).RegisterFlags)
}

// Validate reports the first bad setting by its flag name.
func (o Options) Validate() error {
	switch {
	case !strings.HasPrefix(o.Path, "/"):
		return fmt.Errorf("%s: %q must start with /", FlagPath, o.Path)
	case http.CanonicalHeaderKey(o.TokenHeader) == "" || strings.ContainsAny(o.TokenHeader, " :\t\r\n"):
		return fmt.Errorf("%s: %q is not a header name", FlagTokenHeader, o.TokenHeader)
	case o.Token == "" && !o.AllowNoAuth:
		return fmt.Errorf("%s: required (CAMPAIGNPULSE_PUSH_TOKEN_FILE or CAMPAIGNPULSE_PUSH_TOKEN), or set %s", FlagToken, FlagAllowNoAuth)
	case o.MaxBodyBytes < 1024:
		return fmt.Errorf("%s: %d, must be >= 1024", FlagMaxBodyBytes, o.MaxBodyBytes)
	case o.ReadHeaderTimeout <= 0:
		return fmt.Errorf("%s: %s, must be > 0", FlagReadHeaderTimeout, o.ReadHeaderTimeout)
	case o.ReadTimeout <= 0:
		return fmt.Errorf("%s: %s, must be > 0", FlagReadTimeout, o.ReadTimeout)
	case o.ProduceTimeout <= 0:
		return fmt.Errorf("%s: %s, must be > 0", FlagProduceTimeout, o.ProduceTimeout)
	case o.WriteTimeout <= o.ProduceTimeout:
		return fmt.Errorf("%s: %s, must exceed %s %s", FlagWriteTimeout, o.WriteTimeout, FlagProduceTimeout, o.ProduceTimeout)
	case o.IdleTimeout <= 0:
		return fmt.Errorf("%s: %s, must be > 0", FlagIdleTimeout, o.IdleTimeout)
	case o.ShutdownTimeout <= 0:
		return fmt.Errorf("%s: %s, must be > 0", FlagShutdownTimeout, o.ShutdownTimeout)
	}
	return nil
}
