package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/testenv"
)

// A database that drops off the network is a 503 database_unavailable with Retry-After on every
// route that needs it, /readyz names it, and the same server answers again once it is back.
func TestDatabaseOutageIs503AndRecovers(t *testing.T) {
	dbURL := testenv.PostgresURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewTCPProxy(t, u.Host)
	h := newHarnessWith(t, harnessSetup{databaseURL: proxy.URL(t, dbURL)})
	pid := h.product("Lamp", 8900, 5)
	customer := token(t, "c1", app.RoleCustomer)
	requests := []request{
		{method: "GET", path: "/api/products"},
		{method: "GET", path: "/api/products/" + pid},
		{method: "POST", path: "/api/orders", token: customer, body: orderBody(pid, "1")},
		{method: "POST", path: "/api/orders", token: customer, body: orderBody(pid, "1"), header: map[string]string{"Idempotency-Key": "outage-1"}},
		{method: "GET", path: "/api/orders", token: customer},
	}

	proxy.Cut()
	for _, r := range requests {
		resp := h.do(r)
		resp.wantProblem(t, http.StatusServiceUnavailable, "database_unavailable")
		if resp.header.Get("Retry-After") == "" {
			t.Errorf("%s %s: 503 without Retry-After", r.method, r.path)
		}
	}
	ready := h.do(request{method: "GET", path: "/readyz"})
	var p struct {
		Code        string
		Unavailable []string
	}
	ready.decode(t, &p)
	if ready.status != http.StatusServiceUnavailable || p.Code != "not_ready" || len(p.Unavailable) != 1 || p.Unavailable[0] != "database" ||
		ready.header.Get("Retry-After") == "" {
		t.Errorf("/readyz during the outage = %d %s (Retry-After %q); want 503 naming the database", ready.status, ready.body, ready.header.Get("Retry-After"))
	}

	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for h.do(request{method: "GET", path: "/readyz"}).status != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not recover within 10 s of the database coming back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, r := range requests {
		if resp := h.do(r); resp.status >= 300 {
			t.Errorf("after the outage %s %s = %d %s", r.method, r.path, resp.status, resp.body)
		}
	}
}

func TestProviderOutageIs503WithRetryAfter(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Lamp", 8900, 5)
	h.providerDown.Store(true)
	r := h.do(request{method: "POST", path: "/api/orders/with-payment", token: token(t, "c1", app.RoleCustomer), body: orderBody(pid, "1")})
	r.wantProblem(t, http.StatusServiceUnavailable, "payment_provider_unavailable")
	if got := r.header.Get("Retry-After"); got != httpapi.RetryAfterSeconds {
		t.Errorf("Retry-After = %q; want %q", got, httpapi.RetryAfterSeconds)
	}
	if h.stock(pid) != 5 {
		t.Errorf("stock = %d after a refused checkout; want 5", h.stock(pid))
	}
}
