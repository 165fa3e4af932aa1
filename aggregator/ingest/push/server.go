package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
)

// Serve runs the receiver on ln until ctx ends, then stops accepting, lets
// in-flight postbacks finish (their Kafka acks included, bounded by
// ShutdownTimeout) and returns.
func (r *Receiver) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           r.Handler(),
		ReadHeaderTimeout: r.opts.ReadHeaderTimeout,
		ReadTimeout:       r.opts.ReadTimeout,
		WriteTimeout:      r.opts.WriteTimeout,
		IdleTimeout:       r.opts.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		// Connection-level noise (TLS handshakes, bad clients) at debug.
		ErrorLog: slog.NewLogLogger(r.deps.Log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	r.deps.Log.Info("push receiver listening", "addr", ln.Addr().String(), "path", r.opts.Path)
	select {
	case err := <-errc:
		return fmt.Errorf("push receiver: %w", err)
	case <-ctx.Done():
	}
	r.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("push receiver shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("push receiver: %w", err)
	}
	r.deps.Log.Info("push receiver stopped")
	return nil
}

// ListenAndServe listens on Options.Addr and calls Serve.
func (r *Receiver) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", r.opts.Addr)
	if err != nil {
		return fmt.Errorf("push receiver listen %s: %w", r.opts.Addr, err)
	}
	return r.Serve(ctx, ln)
}
