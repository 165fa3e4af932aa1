package push

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// TestShutdownWaitsForInFlightAck stops the server while a push waits for
// its Kafka ack: new connections are refused at once, the waiting push
// still gets its 200 once Kafka acks, and only then does Serve return.
func TestShutdownWaitsForInFlightAck(t *testing.T) {
	w := newWorld(t, nil)
	addr, stop := serve(t, w)
	post := func() (int, error) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/push", strings.NewReader(validPush))
		req.Header.Set("Authorization", testToken)
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := post(); err != nil || code != 200 {
		t.Fatalf("warm-up: %d %v", code, err)
	}

	c := w.kafka.Cluster()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		once.Do(func() {
			close(entered)
			c.SleepControl(func() { <-release })
		})
		return nil, nil, false
	})
	result := make(chan int, 1)
	go func() {
		code, err := post()
		if err != nil {
			t.Errorf("in-flight push: %v", err)
		}
		result <- code
	}()
	<-entered

	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			break // no longer accepting
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 5 s after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-stopped:
		t.Fatal("Serve returned while a push was waiting for its ack")
	case code := <-result:
		t.Fatalf("push answered %d before Kafka acked", code)
	default:
	}
	close(release)
	if code := <-result; code != 200 {
		t.Fatalf("in-flight push answered %d, want 200 after the ack", code)
	}
	<-stopped
	if n := len(w.records(t, metricdoc.TopicRawEvents)); n != 2 {
		t.Fatalf("%d records, want 2", n)
	}
}
