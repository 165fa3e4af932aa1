package simulate

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
)

// Fault is an injectable misbehaviour of the Pull API.
type Fault int

// Faults.
const (
	FaultNone        Fault = iota
	FaultServerError       // answer ServerErrorStatus with a short body
	FaultSlow              // hold the request SlowDelay, then answer normally
	// FaultDrop hijacks the connection and closes it without an answer. Go's
	// transport silently retries an idempotent request once when this
	// happens on a reused keep-alive connection.
	FaultDrop
	// FaultTruncate answers 200 with a Content-Length, sends part of a CSV
	// and closes the connection: the client sees an unexpected EOF.
	FaultTruncate
)

func (f Fault) String() string {
	switch f {
	case FaultNone:
		return "none"
	case FaultServerError:
		return "server_error"
	case FaultSlow:
		return "slow"
	case FaultDrop:
		return "drop"
	case FaultTruncate:
		return "truncate"
	}
	return fmt.Sprintf("fault_%d", int(f))
}

// faultState holds queued faults (the next N requests) and per-request
// probabilities. Guarded by Server.mu.
type faultState struct {
	queue []Fault
	prob  [5]float64
}

// InjectFault makes the next n requests (reports and downloads alike) fail
// with f, after any faults queued before.
func (s *Server) InjectFault(f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults.queue = append(s.faults.queue, f)
	}
}

// SetFaultProbability makes each request fail with f with probability p
// (drawn from the world seed) when no queued fault applies. p = 0 disables.
func (s *Server) SetFaultProbability(f Fault, p float64) error {
	if f <= FaultNone || int(f) >= len(s.faults.prob) || p < 0 || p > 1 {
		return fmt.Errorf("set fault probability %s = %v: want a known fault and p in [0, 1]", f, p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.prob[f] = p
	return nil
}

// ClearFaults removes queued faults and probabilities.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = faultState{}
}

func (s *Server) nextFault() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults.queue) > 0 {
		f := s.faults.queue[0]
		s.faults.queue = s.faults.queue[1:]
		return f
	}
	for f := FaultServerError; int(f) < len(s.faults.prob); f++ {
		if p := s.faults.prob[f]; p > 0 && s.rng.Float64() < p {
			return f
		}
	}
	return FaultNone
}

// applyFault performs f; it returns true if the request should still be
// served normally afterwards.
func (s *Server) applyFault(f Fault, rw http.ResponseWriter, r *http.Request) bool {
	switch f {
	case FaultServerError:
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.WriteHeader(s.opts.ServerErrorStatus)
		_, _ = rw.Write([]byte(http.StatusText(s.opts.ServerErrorStatus) + "\n"))
		return false
	case FaultSlow:
		t := time.NewTimer(s.opts.SlowDelay)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-r.Context().Done():
			return false
		}
	case FaultDrop:
		conn, _, err := http.NewResponseController(rw).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
		}
		_ = conn.Close()
		return false
	case FaultTruncate:
		conn, bw, err := http.NewResponseController(rw).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n")
		_, _ = bw.WriteString(strings.Join(appsflyer.NewRowWriter(io.Discard, nil).Header()[:10], ","))
		_ = bw.Flush()
		_ = conn.Close()
		return false
	}
	return true
}
