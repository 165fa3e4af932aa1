package push

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Publisher persists events; both calls return only after Kafka acked.
type Publisher interface {
	Publish(ctx context.Context, ev *event.Event, value []byte) error
	DeadLetter(ctx context.Context, origin, reason string, value []byte) error
}

var _ Publisher = (*publish.Producer)(nil)

// Deps are the receiver's collaborators.
type Deps struct {
	Publisher Publisher
	Log       *slog.Logger
	// Registerer receives the receiver's metrics. Required.
	Registerer prometheus.Registerer
	// Ready reports whether Kafka is reachable, for /readyz. Optional.
	Ready func(context.Context) error
	// Metrics serves /metrics on OpsHandler when set.
	Metrics http.Handler
	// Now is the clock for latency metrics. Default time.Now.
	Now func() time.Time
}

// Receiver handles Push API postbacks.
type Receiver struct {
	opts     Options
	deps     Deps
	auth     tokenCheck
	m        *metrics
	draining atomic.Bool
}

// New validates opts (after defaults) and builds a receiver.
func New(opts Options, deps Deps) (*Receiver, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if deps.Publisher == nil || deps.Registerer == nil || deps.Log == nil {
		return nil, errors.New("push receiver: publisher, registerer and log are required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Receiver{opts: opts, deps: deps, auth: newTokenCheck(opts), m: newMetrics(deps.Registerer)}, nil
}

// Handler routes the push path and /healthz (for a load balancer or TLS
// proxy in front). It is what faces AppsFlyer, so it serves neither /readyz
// nor /metrics: those are on OpsHandler, for an internal listener.
func (r *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(r.opts.Path, r)
	mux.HandleFunc("/healthz", healthz)
	return mux
}

// OpsHandler routes /healthz, /readyz and (if given) /metrics, for a
// listener on the internal network only.
func (r *Receiver) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", healthz)
	mux.HandleFunc("/readyz", r.ready)
	if r.deps.Metrics != nil {
		mux.Handle("/metrics", r.deps.Metrics)
	}
	return mux
}

func healthz(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") }

func (r *Receiver) ready(w http.ResponseWriter, req *http.Request) {
	if r.draining.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if r.deps.Ready != nil {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		if err := r.deps.Ready(ctx); err != nil {
			http.Error(w, "kafka not reachable", http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = io.WriteString(w, "ok\n")
}

// ServeHTTP answers one postback.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := r.deps.Now()
	code, msg := r.push(w, req)
	r.m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
	r.m.duration.Observe(r.deps.Now().Sub(start).Seconds())
	if code == http.StatusOK {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	if code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "GET, POST")
	}
	http.Error(w, msg, code)
}

// push returns the status code and message for req. Every 200 follows a
// Kafka ack of the event.
func (r *Receiver) push(w http.ResponseWriter, req *http.Request) (int, string) {
	if !r.auth.ok(req) {
		return http.StatusUnauthorized, "unauthorized"
	}
	if r.draining.Load() {
		return http.StatusServiceUnavailable, "shutting down"
	}
	var body []byte
	switch req.Method {
	case http.MethodPost:
		b, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.opts.MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			var ne net.Error
			switch {
			case errors.As(err, &tooBig):
				return http.StatusRequestEntityTooLarge, "body larger than " + strconv.FormatInt(r.opts.MaxBodyBytes, 10) + " bytes"
			case errors.As(err, &ne) && ne.Timeout():
				return http.StatusRequestTimeout, "body read timed out"
			default:
				return http.StatusBadRequest, "cannot read body"
			}
		}
		body = b
	case http.MethodGet:
		b, err := formToJSON(req.URL.RawQuery)
		if err != nil {
			return r.reject(req.Context(), publish.ReasonBadForm, []byte(req.URL.RawQuery), err.Error())
		}
		body = b
	default:
		return http.StatusMethodNotAllowed, "use POST (JSON) or GET (query form)"
	}

	var ev event.Event
	if err := event.Parse(body, &ev); err != nil {
		return r.reject(req.Context(), string(event.ReasonOf(err)), body, err.Error())
	}
	ctx, cancel := r.produceContext(req.Context())
	defer cancel()
	if err := r.deps.Publisher.Publish(ctx, &ev, body); err != nil {
		r.deps.Log.Warn("push event not persisted, answering 503", "app_id", ev.AppID, "err", err)
		return http.StatusServiceUnavailable, "event not persisted, retry later"
	}
	return http.StatusOK, ""
}

// reject dead-letters a malformed input and answers 400; if the DLQ write
// fails the answer is 503, so the sender knows nothing was kept.
func (r *Receiver) reject(reqCtx context.Context, reason string, body []byte, msg string) (int, string) {
	ctx, cancel := r.produceContext(reqCtx)
	defer cancel()
	if err := r.deps.Publisher.DeadLetter(ctx, metricdoc.SourcePush, reason, body); err != nil {
		r.deps.Log.Warn("malformed push not dead-lettered, answering 503", "reason", reason, "err", err)
		return http.StatusServiceUnavailable, "not persisted, retry later"
	}
	return http.StatusBadRequest, msg
}

// produceContext outlives a client that hangs up: once read, an event is
// worth persisting, and shutdown waits for it.
func (r *Receiver) produceContext(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), r.opts.ProduceTimeout)
}
