package push

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

func fastFail(o *Options, p *publish.Options) {
	o.ProduceTimeout = 800 * time.Millisecond
	p.DeliveryTimeout = time.Second
}

func TestKafkaRejectsProduceAnswers503(t *testing.T) {
	w := newWorld(t, fastFail)
	// Warm up: the producer id and metadata are loaded.
	if got := status(w.do("POST", "/v1/push", validPush, authed)); got != 200 {
		t.Fatalf("warm-up %d", got)
	}
	if _, err := w.kafka.FailProduce(kerr.NotEnoughReplicas.Code, -1); err != nil {
		t.Fatal(err)
	}
	if got := status(w.do("POST", "/v1/push", validPush, authed)); got != 503 {
		t.Fatalf("kafka failing produce: status %d, want 503", got)
	}
	if got := status(w.do("POST", "/v1/push", "{bad", authed)); got != 503 {
		t.Fatalf("kafka failing DLQ produce: status %d, want 503", got)
	}
}

func TestKafkaDownAnswers503(t *testing.T) {
	w := newWorld(t, fastFail)
	if got := status(w.do("POST", "/v1/push", validPush, authed)); got != 200 {
		t.Fatalf("warm-up %d", got)
	}
	w.kafka.Close()
	if got := status(w.do("POST", "/v1/push", validPush, authed)); got != 503 {
		t.Fatalf("kafka closed: status %d, want 503", got)
	}
	rec := httptest.NewRecorder()
	w.recv.OpsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if status(rec) != 503 {
		t.Fatalf("readyz with kafka down: %d", status(rec))
	}
}

// serve runs the receiver on a loopback listener until the test ends.
func serve(t *testing.T, w *world) (addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.recv.Serve(ctx, ln) }()
	stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	return ln.Addr().String(), stop
}

func TestSlowBodyTimesOut(t *testing.T) {
	w := newWorld(t, func(o *Options, _ *publish.Options) { o.ReadTimeout = 300 * time.Millisecond })
	addr, stop := serve(t, w)
	defer stop()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers promise the whole body, then only half of it comes.
	fmt.Fprintf(conn, "POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		testToken, len(validPush), validPush[:len(validPush)/2])
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			t.Fatalf("slow body answered %d", resp.StatusCode)
		}
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("server kept a slow body open for 10 s")
	}
	if n := len(w.records(t, metricdoc.TopicRawEvents)); n != 0 {
		t.Fatalf("partial body published: %d records", n)
	}
}

func TestServeHealthAndGracefulStop(t *testing.T) {
	w := newWorld(t, nil)
	addr, stop := serve(t, w)
	// The push port faces AppsFlyer: liveness only, no readiness or metrics.
	for p, want := range map[string]int{"/healthz": 200, "/readyz": 404, "/metrics": 404} {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s on the push port: %d, want %d", p, resp.StatusCode, want)
		}
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/push", strings.NewReader(validPush))
	req.Header.Set("Authorization", testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("push over HTTP: %d", resp.StatusCode)
	}
	stop()
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("still accepting after shutdown")
	}
	if n := len(w.records(t, metricdoc.TopicRawEvents)); n != 1 {
		t.Fatalf("%d records", n)
	}
}
