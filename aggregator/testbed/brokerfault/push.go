package brokerfault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// PushTarget is a push receiver endpoint and the token it expects.
type PushTarget struct {
	URL         string // e.g. http://127.0.0.1:8090/v1/push
	TokenHeader string // default "Authorization"
	Token       string
	AppID       string // default "id000000001"
}

// PushStats counts the receiver's answers: 2xx means "persisted", anything else must mean "not
// persisted, retry" (AppsFlyer retries non-2xx), a transport error leaves the outcome unknown.
type PushStats struct {
	mu        sync.Mutex
	OK        int
	Non2xx    map[int]int
	Transport int
	Slowest   time.Duration
}

func (s *PushStats) note(code int, transport bool, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case transport:
		s.Transport++
	case code/100 == 2:
		s.OK++
	default:
		if s.Non2xx == nil {
			s.Non2xx = map[int]int{}
		}
		s.Non2xx[code]++
	}
	s.Slowest = max(s.Slowest, took)
}

// String is a one-line summary for test logs.
func (s *PushStats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("2xx=%d non2xx=%v transport_errors=%d slowest=%s", s.OK, s.Non2xx, s.Transport, s.Slowest.Round(time.Millisecond))
}

// PushSequence POSTs events with appsflyer_id "bf-<n>" for n = 0, 1, 2, ... with workers concurrent
// senders until ctx ends or max events were sent, noting each answer in l (2xx = Ack) and stats.
// Each event is sent once: a refused event stays unacked, which is what a lost retry looks like.
func PushSequence(ctx context.Context, hc *http.Client, t PushTarget, l *Ledger, stats *PushStats, workers int, max int64) {
	if t.TokenHeader == "" {
		t.TokenHeader = "Authorization"
	}
	if t.AppID == "" {
		t.AppID = "id000000001"
	}
	var (
		mu   sync.Mutex
		next int64
		wg   sync.WaitGroup
	)
	take := func() (int64, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= max || ctx.Err() != nil {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				id, ok := take()
				if !ok {
					return
				}
				l.Sent(id)
				start := time.Now()
				code, err := pushOne(hc, t, id, start)
				stats.note(code, err != nil, time.Since(start))
				if err == nil && code/100 == 2 {
					l.Ack(id)
				} else {
					l.Fail(id)
				}
			}
		}()
	}
	wg.Wait()
}

func pushOne(hc *http.Client, t PushTarget, id int64, now time.Time) (int, error) {
	body, err := json.Marshal(map[string]string{
		"app_id":       t.AppID,
		"appsflyer_id": "bf-" + strconv.FormatInt(id, 10),
		"event_name":   "install",
		"event_time":   now.UTC().Format("2006-01-02 15:04:05.000"),
		"install_time": now.UTC().Format("2006-01-02 15:04:05.000"),
		"platform":     "android",
		"media_source": "brokerfault",
		"campaign":     "faults",
	})
	if err != nil {
		return 0, err
	}
	// Not bound to the run's context: a request in flight when the run ends still gets its answer,
	// so its ledger entry is truthful.
	req, err := http.NewRequest(http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(t.TokenHeader, t.Token)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// DecodePushID reads the id PushSequence sent from a raw_events record (the receiver keeps the
// fields the source sent, so appsflyer_id survives as "bf-<n>").
func DecodePushID(r *kgo.Record) (int64, error) {
	var ev struct {
		AppsFlyerID string `json:"appsflyer_id"`
	}
	if err := json.Unmarshal(r.Value, &ev); err != nil {
		return 0, fmt.Errorf("raw event: %w", err)
	}
	n, ok := strings.CutPrefix(ev.AppsFlyerID, "bf-")
	if !ok {
		return 0, fmt.Errorf("raw event appsflyer_id %q: not pushed by PushSequence", ev.AppsFlyerID)
	}
	return strconv.ParseInt(n, 10, 64)
}
