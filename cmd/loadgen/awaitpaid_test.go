package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// orderServer plays GET /api/orders/o1 of a card order that becomes Paid (ETag "1") once it has
// been read pendingReads times as Pending (ETag "0"); a long poll on "0" is held until then. It
// keeps every request's If-None-Match and wait.
type orderServer struct {
	mu           sync.Mutex
	reads        int
	pendingReads int
	conditions   []string // If-None-Match + " wait=" + wait, one per request
	status       int      // when set, every answer is this status
}

func (s *orderServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conditions = append(s.conditions, r.Header.Get("If-None-Match")+" wait="+r.URL.Query().Get("wait"))
	s.reads++
	if s.status != 0 {
		w.WriteHeader(s.status)
		return
	}
	paid := s.reads > s.pendingReads || r.URL.Query().Get("wait") != "" // a held read ends with the change
	if !paid {
		w.Header().Set("ETag", `"0"`)
		_, _ = w.Write([]byte(`{"paymentStatus":"Pending","timeline":[]}`))
		return
	}
	w.Header().Set("ETag", `"1"`)
	at := time.Now().UTC().Format(time.RFC3339Nano)
	_, _ = w.Write([]byte(`{"paymentStatus":"Paid","timeline":[{"type":"payment.succeeded","at":"` + at + `"}]}`))
}

func awaitPaidAgainst(t *testing.T, srv *orderServer, wait time.Duration, created string) *recorder {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	w := &workload{cfg: config{wait: wait, poll: 10 * time.Millisecond, paidWithin: 300 * time.Millisecond},
		client: newClient(ts.URL, 5*time.Second, 1)}
	rec := newRecorder()
	if err := w.awaitPaid(context.Background(), rec, customer{token: "t"}, "o1", created, time.Now()); err != nil {
		t.Fatalf("awaitPaid: %v", err)
	}
	return rec
}

func TestAwaitPaidLongPolls(t *testing.T) {
	srv := &orderServer{pendingReads: 1}
	rec := awaitPaidAgainst(t, srv, 5*time.Second, "")
	want := []string{" wait=", `"0" wait=1`} // the wait is cut to what is left of -paid-within
	if len(srv.conditions) != len(want) || srv.conditions[0] != want[0] || srv.conditions[1] != want[1] {
		t.Fatalf("requests = %q; want %q", srv.conditions, want)
	}
	if len(rec.latency[epGetOrder]) != 1 || len(rec.latency[epAwaitOrder]) != 1 {
		t.Errorf("latencies = %v; want one plain GET and one long poll", rec.latency)
	}
	if len(rec.spans[spanPaid]) != 1 || len(rec.spans[spanPaidSeen]) != 1 || len(rec.failures) != 0 {
		t.Errorf("spans %v, failures %v; want confirm → Paid committed and seen, no failure", rec.spans, rec.failures)
	}
}

// The ETag the order's creation answered starts the long poll at once, without a first GET.
func TestAwaitPaidLongPollsFromTheCreatedETag(t *testing.T) {
	srv := &orderServer{pendingReads: 1}
	rec := awaitPaidAgainst(t, srv, 5*time.Second, `"0"`)
	if want := `"0" wait=1`; len(srv.conditions) != 1 || srv.conditions[0] != want {
		t.Fatalf("requests = %q; want one long poll, %q", srv.conditions, want)
	}
	if len(rec.latency[epGetOrder]) != 0 || len(rec.spans[spanPaidSeen]) != 1 {
		t.Errorf("latencies %v, spans %v; want no plain GET and Paid seen", rec.latency, rec.spans)
	}
}

func TestAwaitPaidPollsWithoutWait(t *testing.T) {
	srv := &orderServer{pendingReads: 2}
	rec := awaitPaidAgainst(t, srv, 0, `"0"`)
	for _, c := range srv.conditions {
		if c != " wait=" {
			t.Fatalf("requests = %q; want plain GETs only", srv.conditions)
		}
	}
	if len(srv.conditions) != 3 || len(rec.latency[epGetOrder]) != 3 || len(rec.spans[spanPaidSeen]) != 1 {
		t.Fatalf("requests %q, latencies %v, spans %v; want three polls, the last one seeing Paid", srv.conditions, rec.latency, rec.spans)
	}
}

func TestAwaitPaidPausesAfterAFailedRead(t *testing.T) {
	srv := &orderServer{status: http.StatusServiceUnavailable}
	rec := awaitPaidAgainst(t, srv, 5*time.Second, "")
	// 300 ms of -paid-within with a 10 ms pause after each failure: a few dozen reads at most.
	if n := len(srv.conditions); n < 2 || n > 40 {
		t.Fatalf("%d reads while the service failed; want a pause of -poll after each", n)
	}
	if len(rec.spans[spanPaidSeen]) != 0 || len(rec.failures) == 0 {
		t.Fatalf("spans %v, failures %v; want no Paid and the failures recorded", rec.spans, rec.failures)
	}
}
