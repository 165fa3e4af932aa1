package push

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchBodies are realistic pushes (~600 bytes) with distinct users, so keys
// spread over the partitions.
func benchBodies(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"api_version":"2.0","app_id":"id123456789","appsflyer_id":"1707053358481-%07d",`+
			`"event_name":"af_purchase","event_time":"2026-11-26 09:49:04.897","install_time":"2026-11-25 20:01:02.000",`+
			`"media_source":"Facebook Ads","af_channel":"Facebook","campaign":"BF_iOS_US_%d","af_c_id":"2386145757781%04d",`+
			`"af_adset":"lookalike_1pct","af_ad":"video_15s_b","platform":"ios","device_type":"iPhone15,2","os_version":"17.4",`+
			`"app_version":"5.2.1","sdk_version":"v6.12.2","country_code":"US","city":"Austin","ip":"203.0.113.7",`+
			`"event_revenue":"4.99","event_revenue_currency":"USD","event_revenue_usd":"4.99","event_value":"{\"af_revenue\":\"4.99\"}",`+
			`"is_retargeting":"false","wifi":"true","customer_user_id":"u-%d"}`, i, i%17, i%10000, i)
	}
	return out
}

// latencies collects per-request times from parallel workers.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) { l.mu.Lock(); l.all = append(l.all, d...); l.mu.Unlock() }

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	slices.Sort(l.all)
	if len(l.all) == 0 {
		return
	}
	p := func(q float64) float64 { return float64(l.all[int(q*float64(len(l.all)-1))]) / 1e6 }
	b.ReportMetric(float64(len(l.all))/elapsed.Seconds(), "events/s")
	b.ReportMetric(p(0.50), "p50_ms")
	b.ReportMetric(p(0.99), "p99_ms")
}

// drive sends b.N pushes from parallelism*GOMAXPROCS goroutines with send
// and reports events/s and the p50/p99 time to the answer.
func drive(b *testing.B, parallelism int, send func(body string) (int, error)) {
	bodies := benchBodies(4096)
	var (
		lat  latencies
		seq  sync.Mutex
		next int
	)
	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var local []time.Duration
		for pb.Next() {
			seq.Lock()
			body := bodies[next%len(bodies)]
			next++
			seq.Unlock()
			t0 := time.Now()
			code, err := send(body)
			local = append(local, time.Since(t0))
			if err != nil || code != http.StatusOK {
				b.Errorf("push: %d %v", code, err)
				return
			}
		}
		lat.add(local)
	})
	elapsed := time.Since(start)
	b.StopTimer()
	lat.report(b, elapsed)
}

// BenchmarkPushHandler drives the receiver's handler (auth, body read,
// event.Parse, produce, wait for the kfake ack) from 256 concurrent
// senders; run with -cpu 1 for events/s on one core.
func BenchmarkPushHandler(b *testing.B) {
	w := newWorld(b, nil)
	h := w.recv.Handler()
	drive(b, 256, func(body string) (int, error) {
		req := httptest.NewRequest("POST", "/v1/push", strings.NewReader(body))
		req.Header.Set("Authorization", testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, nil
	})
}

// BenchmarkPushHTTP is the same over loopback HTTP/1.1 keep-alive
// connections through the real server (timeouts, body limit), so the
// client's and server's HTTP work share the core too.
func BenchmarkPushHTTP(b *testing.B) {
	w := newWorld(b, nil)
	srv := httptest.NewServer(w.recv.Handler())
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}
	drive(b, 64, func(body string) (int, error) {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/push", strings.NewReader(body))
		req.Header.Set("Authorization", testToken)
		resp, err := cl.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	})
}
