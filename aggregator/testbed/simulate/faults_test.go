package simulate

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
)

// try sends a report request and returns the client error or the
// classified answer, as a poller would see it.
func (f *pullFixture) try(client *http.Client, rawURL string) error {
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return appsflyer.CheckResponse(resp.StatusCode, body)
}

func TestServerFaults(t *testing.T) {
	f := newPullFixture(t, ServerOptions{SlowDelay: 2 * time.Second}, TrafficOptions{})
	u := f.url(f.w.Apps[0].ID, appsflyer.ReportInstalls, window("2026-11-26", "2026-11-26"))
	client := &http.Client{Timeout: 5 * time.Second}

	f.srv.InjectFault(FaultServerError, 2)
	for i := range 2 {
		err := f.try(client, u)
		var e *appsflyer.APIError
		if !errors.As(err, &e) || e.Status != 503 || e.Kind != appsflyer.KindServer || !appsflyer.IsRetryable(err) {
			t.Fatalf("request %d: %v, want a retryable 503", i, err)
		}
	}
	if err := f.try(client, u); err != nil {
		t.Fatalf("after the injected 5xx: %v", err)
	}

	// A fresh connection, or Go's transport would retry the GET by itself.
	fresh := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	f.srv.InjectFault(FaultDrop, 1)
	if err := f.try(fresh, u); err == nil || !appsflyer.IsRetryable(err) {
		t.Fatalf("dropped connection: %v, want a retryable transport error", err)
	}
	f.srv.InjectFault(FaultTruncate, 1)
	if err := f.try(client, u); !errors.Is(err, io.ErrUnexpectedEOF) || !appsflyer.IsRetryable(err) {
		t.Fatalf("truncated body: %v, want a retryable unexpected EOF", err)
	}

	f.srv.InjectFault(FaultSlow, 1)
	impatient := &http.Client{Timeout: 100 * time.Millisecond}
	if err := f.try(impatient, u); err == nil || !appsflyer.IsRetryable(err) {
		t.Fatalf("slow answer: %v, want a retryable timeout", err)
	}
	if err := f.try(client, u); err != nil {
		t.Fatalf("after the slow one: %v", err)
	}

	// Faults hit downloads too, and a failed download leaves the URL usable.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := f.get(t, u, testToken, false)
	loc := resp.Header.Get("Location")
	f.srv.InjectFault(FaultServerError, 1)
	if err := f.try(noFollow, loc); err == nil {
		t.Fatal("download fault not applied")
	}
	if err := f.try(noFollow, loc); err != nil {
		t.Fatalf("download after its fault: %v", err)
	}

	if err := f.srv.SetFaultProbability(FaultServerError, 1); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := f.try(client, u); !appsflyer.IsRetryable(err) {
			t.Fatalf("probability 1: %v", err)
		}
	}
	f.srv.ClearFaults()
	if err := f.try(client, u); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}
	if err := f.srv.SetFaultProbability(FaultNone, 0.5); err == nil {
		t.Fatal("FaultNone probability accepted")
	}
	if err := f.srv.SetFaultProbability(FaultDrop, 2); err == nil {
		t.Fatal("probability 2 accepted")
	}
	if st := f.srv.Stats(); st.Faults != 9 {
		t.Fatalf("Faults = %d, want 9", st.Faults)
	}
}

// A fault probability is drawn from the seed: two servers of one seed fail
// the same requests.
func TestServerFaultProbabilityIsDeterministic(t *testing.T) {
	pattern := func() string {
		f := newPullFixture(t, ServerOptions{QuotaPerDay: -1}, TrafficOptions{})
		if err := f.srv.SetFaultProbability(FaultServerError, 0.3); err != nil {
			t.Fatal(err)
		}
		u := f.url(f.w.Apps[0].ID, appsflyer.ReportInstalls, url.Values{"from": {"2026-11-26"}, "to": {"2026-11-26"}})
		var s []byte
		for range 40 {
			if f.try(http.DefaultClient, u) != nil {
				s = append(s, 'x')
			} else {
				s = append(s, '.')
			}
		}
		return string(s)
	}
	a, b := pattern(), pattern()
	if a != b {
		t.Fatalf("fault pattern differs:\n%s\n%s", a, b)
	}
	if n := len(a) - len(string(bytesWithout(a, 'x'))); n < 4 || n > 24 {
		t.Fatalf("%d faults of 40 at p=0.3", n)
	}
}

func bytesWithout(s string, c byte) []byte {
	var out []byte
	for i := range len(s) {
		if s[i] != c {
			out = append(out, s[i])
		}
	}
	return out
}
