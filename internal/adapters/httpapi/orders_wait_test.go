package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/httpapi/openapitest"
	"github.com/wolfix/orders/internal/app"
)

// Conditional and long-poll reads of an order: ETag, If-None-Match and ?wait.

// getIfNoneMatch reads the order with If-None-Match: tags (none when empty) and the query.
func (h *harness) getIfNoneMatch(tok, id, tags, query string) response {
	h.t.Helper()
	r := request{method: http.MethodGet, path: "/api/orders/" + id + query, token: tok}
	if tags != "" {
		r.header = map[string]string{"If-None-Match": tags}
	}
	return h.do(r)
}

// timedResponse is a response and how long it took.
type timedResponse struct {
	response
	took time.Duration
}

func (h *harness) getLater(tok, id, tags, query string) <-chan timedResponse {
	done := make(chan timedResponse, 1)
	go func() {
		start := time.Now()
		r := h.getIfNoneMatch(tok, id, tags, query)
		done <- timedResponse{r, time.Since(start)}
	}()
	return done
}

func wantNotModified(t *testing.T, r response, etag string) {
	t.Helper()
	if r.status != http.StatusNotModified || len(r.body) != 0 || r.header.Get("ETag") != etag {
		t.Fatalf("answer = %d ETag %q body %q; want 304 with ETag %s and no body", r.status, r.header.Get("ETag"), r.body, etag)
	}
}

func TestGetOrderAnswersItsETagAndNotModified(t *testing.T) {
	h := newHarness(t)
	customer := token(t, "customer-1", app.RoleCustomer)
	id, _ := h.placeCard(customer, h.product("Desk lamp", 2599, 5), "1")

	r := h.getIfNoneMatch(customer, id, "", "")
	etag := r.header.Get("ETag")
	if r.status != http.StatusOK || etag != `"0"` || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET = %d ETag %q Cache-Control %q; want 200, the new order's version \"0\", no-store",
			r.status, etag, r.header.Get("Cache-Control"))
	}
	for _, tags := range []string{`"0"`, `W/"0"`, `"7", "0"`, `*`, `"x",W/"0"`} {
		wantNotModified(t, h.getIfNoneMatch(customer, id, tags, ""), etag)
		wantNotModified(t, h.getIfNoneMatch(customer, id, tags, "?wait=0"), etag)
	}
	for _, tags := range []string{`"1"`, `0`, `"00"`, `"+0"`, `"-0"`, `W/`, `""`, `"0`} {
		if r := h.getIfNoneMatch(customer, id, tags, ""); r.status != http.StatusOK || r.header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d ETag %q; want 200 with ETag %s", tags, r.status, r.header.Get("ETag"), etag)
		}
	}
	if r := h.getIfNoneMatch(customer, id, "", "?wait=30"); r.status != http.StatusOK {
		t.Errorf("wait without If-None-Match: %d; want 200 at once", r.status)
	}
}

// Both order POSTs answer the new order's ETag (RFC 9110: a 201's ETag is the created resource's),
// so a client may long-poll without a first GET: the same tag a GET answers.
func TestPlacingAnOrderAnswersItsETag(t *testing.T) {
	h := newHarness(t)
	customer := token(t, "customer-1", app.RoleCustomer)
	pid := h.product("Desk lamp", 2599, 5)
	for _, path := range []string{"/api/orders", "/api/orders/with-payment"} {
		r := h.do(request{method: http.MethodPost, path: path, token: customer, body: orderBody(pid, "1")})
		var p placed
		r.decode(t, &p)
		created := r.header.Get("ETag")
		if r.status != http.StatusCreated || created == "" {
			t.Fatalf("POST %s = %d ETag %q; want 201 with the order's ETag", path, r.status, created)
		}
		wantNotModified(t, h.getIfNoneMatch(customer, p.OrderID, created, ""), created)
	}
}

func TestGetOrderWaitsForTheChange(t *testing.T) {
	h := newHarness(t)
	customer := token(t, "customer-1", app.RoleCustomer)
	id, secret := h.placeCard(customer, h.product("Desk lamp", 2599, 5), "1")
	etag := h.getIfNoneMatch(customer, id, "", "").header.Get("ETag")

	held := h.getLater(customer, id, etag, "?wait=20")
	time.Sleep(100 * time.Millisecond) // most likely held by now; if not, it reads the new version at once
	h.confirm(secret, "4242 4242 4242 4242")
	select {
	case r := <-held:
		if r.status != http.StatusOK || r.header.Get("ETag") == etag || r.header.Get("ETag") == "" {
			t.Fatalf("held GET = %d ETag %q; want 200 with a new ETag (was %s)", r.status, r.header.Get("ETag"), etag)
		}
		var o orderDoc
		r.decode(t, &o)
		if o.PaymentStatus != "Paid" || r.took > 10*time.Second {
			t.Fatalf("held GET answered %s after %s; want Paid, as soon as it committed", o.PaymentStatus, r.took)
		}
		wantNotModified(t, h.getIfNoneMatch(customer, id, r.header.Get("ETag"), ""), r.header.Get("ETag"))
	case <-time.After(20 * time.Second):
		t.Fatal("the held GET did not answer within its wait")
	}
}

// A held GET answers the order a commit of this process handed over, without reading it again:
// byte for byte the representation a GET then reads from the database, under the same strong ETag.
func TestHeldGetAnswersWhatAGetReads(t *testing.T) {
	for name, setup := range bothDatabases() {
		t.Run(name, func(t *testing.T) {
			h := newHarnessWith(t, setup(t))
			customer := token(t, "customer-1", app.RoleCustomer)
			id, secret := h.placeCard(customer, h.product("Desk lamp", 2599, 5), "1")
			held := h.getLater(customer, id, `"0"`, "?wait=20")
			time.Sleep(100 * time.Millisecond) // most likely held by now; if not, it reads the change
			h.confirm(secret, "4242 4242 4242 4242")
			var r timedResponse
			select {
			case r = <-held:
			case <-time.After(20 * time.Second):
				t.Fatal("the held GET did not answer within its wait")
			}
			read := h.getIfNoneMatch(customer, id, "", "")
			if r.status != http.StatusOK || r.header.Get("ETag") != read.header.Get("ETag") || !bytes.Equal(r.body, read.body) {
				t.Fatalf("held GET = %d ETag %s\n%s\nGET = %d ETag %s\n%s\nwant the same representation",
					r.status, r.header.Get("ETag"), r.body, read.status, read.header.Get("ETag"), read.body)
			}
			if !bytes.Contains(r.body, []byte(`"paymentStatus":"Paid"`)) {
				t.Fatalf("held GET answered %s; want the order Paid", r.body)
			}
		})
	}
}

func TestGetOrderHeldUntilTheWaitRunsOut(t *testing.T) {
	h := newHarness(t)
	customer := token(t, "customer-1", app.RoleCustomer)
	id, _ := h.placeCard(customer, h.product("Desk lamp", 2599, 5), "1")
	start := time.Now()
	wantNotModified(t, h.getIfNoneMatch(customer, id, `"0"`, "?wait=1"), `"0"`)
	if took := time.Since(start); took < time.Second {
		t.Fatalf("answered after %s; want the request held for its wait, 1s", took)
	}
}

func TestGetOrderWaitRefusals(t *testing.T) {
	h := newHarness(t)
	customer := token(t, "customer-1", app.RoleCustomer)
	id, _ := h.placeCard(customer, h.product("Desk lamp", 2599, 5), "1")
	for _, query := range []string{"?wait=abc", "?wait=-1", "?wait=31", "?wait=1.5", "?wait=10s", "?wait=", "?wait=99999999999999999999"} {
		for _, tags := range []string{"", `"0"`} {
			h.getIfNoneMatch(customer, id, tags, query).wantProblem(t, http.StatusBadRequest, "wait_invalid")
		}
	}
	start := time.Now()
	stranger := token(t, "customer-2", app.RoleCustomer)
	h.getIfNoneMatch(stranger, id, `"0"`, "?wait=30").wantProblem(t, http.StatusNotFound, "order_not_found")
	h.getIfNoneMatch(stranger, id, `*`, "?wait=30").wantProblem(t, http.StatusNotFound, "order_not_found")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a stranger's reads took %s; want a 404 at once, never a wait", took)
	}
}

// TestShutdownEndsHeldReads: as serve does, the server's shutdown ends the held reads
// (RegisterOnShutdown → EndWaits), so they never outlast the drain of requests in flight.
func TestShutdownEndsHeldReads(t *testing.T) {
	h := newHarness(t)
	customer := token(t, "customer-1", app.RoleCustomer)
	id, _ := h.placeCard(customer, h.product("Desk lamp", 2599, 5), "1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h.handler, ReadHeaderTimeout: 5 * time.Second}
	srv.RegisterOnShutdown(h.app.Orders.EndWaits)
	go func() { _ = srv.Serve(ln) }()

	req, err := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/api/orders/"+id+"?wait=30", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+customer)
	req.Header.Set("If-None-Match", `"0"`)
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("held GET: %v", err)
			close(answered)
			return
		}
		_ = resp.Body.Close()
		answered <- resp
	}()
	time.Sleep(200 * time.Millisecond) // held by now

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("shutdown: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("shutdown took %s with a held read; want it ended at once", took)
	}
	resp := <-answered
	if resp == nil {
		return
	}
	if resp.StatusCode != http.StatusNotModified || resp.Header.Get("ETag") != `"0"` {
		t.Fatalf("held GET = %d ETag %q; want 304 \"0\"", resp.StatusCode, resp.Header.Get("ETag"))
	}
	if err := openapitest.Check(req, resp.StatusCode, resp.Header, nil); err != nil {
		t.Error(err)
	}
}
