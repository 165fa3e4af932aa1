package push

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
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

// WithDefaults returns o with zero settings replaced by their defaults.
func (o Options) WithDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if o.Addr == "" {
		o.Addr = ":8080"
	}
	if o.Path == "" {
		o.Path = "/v1/push"
	}
	if o.TokenHeader == "" {
		o.TokenHeader = "Authorization"
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 64 << 10
	}
	def(&o.ReadHeaderTimeout, 5*time.Second)
	def(&o.ReadTimeout, 10*time.Second)
	def(&o.WriteTimeout, 30*time.Second)
	def(&o.IdleTimeout, 60*time.Second)
	def(&o.ProduceTimeout, 10*time.Second)
	def(&o.ShutdownTimeout, 20*time.Second)
	return o
}

// Validate reports the first bad setting by its flag name.
func (o Options) Validate() error {
	switch {
	case !strings.HasPrefix(o.Path, "/"):
		return fmt.Errorf("push.path: %q must start with /", o.Path)
	case http.CanonicalHeaderKey(o.TokenHeader) == "" || strings.ContainsAny(o.TokenHeader, " :\t\r\n"):
		return fmt.Errorf("push.token-header: %q is not a header name", o.TokenHeader)
	case o.Token == "" && !o.AllowNoAuth:
		return errors.New("push.token: required (CAMPAIGNPULSE_PUSH_TOKEN_FILE or CAMPAIGNPULSE_PUSH_TOKEN), or set push.allow-no-auth")
	case o.MaxBodyBytes < 1024:
		return fmt.Errorf("push.max-body-bytes: %d, must be >= 1024", o.MaxBodyBytes)
	case o.ReadHeaderTimeout <= 0:
		return fmt.Errorf("push.read-header-timeout: %s, must be > 0", o.ReadHeaderTimeout)
	case o.ReadTimeout <= 0:
		return fmt.Errorf("push.read-timeout: %s, must be > 0", o.ReadTimeout)
	case o.ProduceTimeout <= 0:
		return fmt.Errorf("push.produce-timeout: %s, must be > 0", o.ProduceTimeout)
	case o.WriteTimeout <= o.ProduceTimeout:
		return fmt.Errorf("push.write-timeout: %s, must exceed push.produce-timeout %s", o.WriteTimeout, o.ProduceTimeout)
	case o.IdleTimeout <= 0:
		return fmt.Errorf("push.idle-timeout: %s, must be > 0", o.IdleTimeout)
	case o.ShutdownTimeout <= 0:
		return fmt.Errorf("push.shutdown-timeout: %s, must be > 0", o.ShutdownTimeout)
	}
	return nil
}
