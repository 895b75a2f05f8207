package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/adapters/ratelimit"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/testenv"
)

// Invariant 10 through the HTTP adapter: no customer holds stock past the unpaid cap, and no
// single client starves the others (429 + Retry-After). Clients are told apart by the address
// the server sees (request.remoteAddr), as gin's ClientIP reads it.

// limits is a harness option enforcing the given rates ("" = off), counted in counts.
func limits(t *testing.T, counts *ratelimit.Counts, orders, confirm, authFailures string) harnessOption {
	t.Helper()
	limit := func(name, rate string) *ratelimit.Limit {
		if rate == "" {
			rate = ratelimit.Off
		}
		l, err := counts.Limit(name, rate)
		if err != nil {
			t.Fatalf("limit %s: %v", name, err)
		}
		return l
	}
	rl := httpapi.RateLimits{Orders: limit("orders", orders), SandboxConfirm: limit("sandbox-confirm", confirm),
		AuthFailures: limit("auth-failures", authFailures)}
	return func(c *httpapi.Config) { c.RateLimits = rl }
}

func memoryCounts(t *testing.T) *ratelimit.Counts {
	t.Helper()
	counts, closeCounts, err := ratelimit.New(ratelimit.Config{})
	if err != nil {
		t.Fatalf("ratelimit: %v", err)
	}
	t.Cleanup(closeCounts)
	return counts
}

func TestUnpaidCapIsAConflictWithItsCode(t *testing.T) {
	h := newHarness(t, func(c *httpapi.Config) { c.App.PlaceOrder.CapUnpaid(app.UnpaidCap{MaxOrders: 2, MaxUnits: 5}) })
	pid, tok := h.product("Lamp", 1000, 100), token(t, "hoarder", app.RoleCustomer)
	h.placeCard(tok, pid, "2")
	h.placeCard(tok, pid, "2")
	h.post(tok, "/api/orders/with-payment", orderBody(pid, "1")).wantProblem(t, http.StatusConflict, app.ErrUnpaidReservationsExceeded.Code)
	if got := h.stock(pid); got != 96 {
		t.Fatalf("stock %d; want 96: the refused order reserved nothing", got)
	}
	if r := h.post(tok, "/api/orders", orderBody(pid, "5")); r.status != http.StatusCreated {
		t.Fatalf("a cash order: %d %s; want 201 (cash is never capped)", r.status, r.body)
	}
	if r := h.post(token(t, "someone-else", app.RoleCustomer), "/api/orders/with-payment", orderBody(pid, "5")); r.status != http.StatusCreated {
		t.Fatalf("another customer's card order: %d %s; want 201", r.status, r.body)
	}
}

// One customer fires card orders from one address at 2,000 a second for as long as 80 other
// customers, each from its own address, place theirs: the burst gets exactly the limit through
// and 429s with Retry-After beyond it, and the others are all served, their p99 under 100 ms
// (or, on a machine slower than that without the burst, under twice what they get there).
func TestOrderBurstIsLimitedWhileOtherCustomersAreServed(t *testing.T) {
	const perMinute, others, ordersEach = 10, 80, 5
	h := newHarness(t, limits(t, memoryCounts(t), strconv.Itoa(perMinute)+"-M", "", ""))
	pid := h.product("Lamp", 1000, 100_000)
	hoarder, hoarderAddr := token(t, "hoarder", app.RoleCustomer), "203.0.113.7:40000"

	quiet := placeOrders(t, h, pid, others, ordersEach) // the same orders without a burst, to compare

	// The burst: 2,000 requests a second (the issue measured one customer at 500) by 8
	// concurrent clients, until the others are done or 20 s have passed.
	var done atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	burst := map[int]int{}
	var badRefusals []string
	fire := make(chan struct{})
	go func() {
		defer close(fire)
		tick := time.NewTicker(time.Second / 2000)
		defer tick.Stop()
		for deadline := time.Now().Add(20 * time.Second); !done.Load() && time.Now().Before(deadline); <-tick.C {
			select {
			case fire <- struct{}{}:
			default: // all 8 busy: the client is as fast as the server lets it be
			}
		}
	}()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range fire {
				r := h.do(request{method: http.MethodPost, path: "/api/orders/with-payment", token: hoarder,
					body: orderBody(pid, "1"), remoteAddr: hoarderAddr})
				mu.Lock()
				burst[r.status]++
				if r.status == http.StatusTooManyRequests {
					if bad := refusalProblem(r); bad != "" {
						badRefusals = append(badRefusals, bad)
					}
				}
				mu.Unlock()
			}
		}()
	}

	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		mu.Lock()
		refused := burst[http.StatusTooManyRequests]
		mu.Unlock()
		if refused > 0 {
			break // the hoarder's window is full: what follows is the burst being refused
		}
	}
	latencies := placeOrders(t, h, pid, others, ordersEach)
	done.Store(true)
	wg.Wait()

	total := burst[http.StatusCreated] + burst[http.StatusTooManyRequests]
	if burst[http.StatusCreated] != perMinute || len(burst) != 2 {
		t.Errorf("burst statuses %v; want exactly %d × 201 and the rest 429", burst, perMinute)
	}
	if len(badRefusals) > 0 {
		t.Errorf("%d refusals were not proper 429 problems, e.g. %s", len(badRefusals), badRefusals[0])
	}
	p50, p99 := percentile(latencies, 50), percentile(latencies, 99)
	t.Logf("burst: %d requests by one customer, %v; %d other customers: %d orders, p50 %v, p99 %v, max %v "+
		"(without the burst: p50 %v, p90 %v, p99 %v)", total, burst, others, len(latencies), p50, p99,
		latencies[len(latencies)-1], percentile(quiet, 50), percentile(quiet, 90), percentile(quiet, 99))
	// The target is 100 ms; a machine already slower without the burst (the race detector, a
	// loaded CI box) must at least not be made more than twice as slow by it.
	if bound := max(100*time.Millisecond, 2*percentile(quiet, 99)); p99 >= bound {
		t.Errorf("other customers' p99 during the burst = %v; want < %v", p99, bound)
	}

	// Both windows bind: the hoarder from a new address, and a new customer from the hoarder's.
	h.do(request{method: http.MethodPost, path: "/api/orders/with-payment", token: hoarder, body: orderBody(pid, "1"),
		remoteAddr: "203.0.113.99:1"}).wantProblem(t, http.StatusTooManyRequests, "rate_limited")
	h.do(request{method: http.MethodPost, path: "/api/orders", token: token(t, "newcomer", app.RoleCustomer),
		body: orderBody(pid, "1"), remoteAddr: hoarderAddr}).wantProblem(t, http.StatusTooManyRequests, "rate_limited")
}

// placeOrders has customers, each from its own address, place card orders two at a time, the
// pace of a busy shop rather than a stampede, and returns how long each order took.
func placeOrders(t *testing.T, h *harness, pid string, customers, each int) []time.Duration {
	t.Helper()
	jobs := make(chan int, customers*each)
	for i := range customers * each {
		jobs <- i % customers
	}
	close(jobs)
	var mu sync.Mutex
	var wg sync.WaitGroup
	latencies := make([]time.Duration, 0, customers*each)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				tok, addr := token(t, fmt.Sprintf("customer-%02d", c), app.RoleCustomer), fmt.Sprintf("198.51.100.%d:40000", c+1)
				start := time.Now()
				r := h.do(request{method: http.MethodPost, path: "/api/orders/with-payment", token: tok,
					body: orderBody(pid, "1"), remoteAddr: addr})
				took := time.Since(start)
				if r.status != http.StatusCreated {
					t.Errorf("customer-%02d: %d %s; want 201", c, r.status, r.body)
				}
				mu.Lock()
				latencies = append(latencies, took)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(latencies)
	return latencies
}

// percentile returns the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)*p+99)/100-1]
}

// refusalProblem returns what is wrong with a 429, or "".
func refusalProblem(r response) string {
	wait, err := strconv.Atoi(r.header.Get("Retry-After"))
	switch {
	case err != nil || wait < 1 || wait > 61:
		return fmt.Sprintf("Retry-After %q", r.header.Get("Retry-After"))
	case r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("X-RateLimit-Limit") == "":
		return fmt.Sprintf("X-RateLimit headers %v", r.header)
	case r.header.Get("Content-Type") != "application/problem+json":
		return fmt.Sprintf("body %s", r.body)
	}
	return ""
}

func TestAuthFailuresAreLimitedPerAddress(t *testing.T) {
	h := newHarness(t, limits(t, memoryCounts(t), "", "", "5-M"))
	attacker, bystander := "192.0.2.66:5000", "192.0.2.77:5000"
	valid := token(t, "customer-1", app.RoleCustomer)
	for i := range 5 {
		r := h.do(request{method: http.MethodGet, path: "/api/orders", token: fmt.Sprintf("forged-%d", i), remoteAddr: attacker})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("bad token %d: %d; want 401", i, r.status)
		}
	}
	r := h.do(request{method: http.MethodGet, path: "/api/orders", token: valid, remoteAddr: attacker})
	r.wantProblem(t, http.StatusTooManyRequests, "rate_limited")
	if bad := refusalProblem(r); bad != "" {
		t.Errorf("refusal: %s", bad)
	}
	if r := h.do(request{method: http.MethodGet, path: "/api/orders", token: valid, remoteAddr: bystander}); r.status != http.StatusOK {
		t.Fatalf("another address with a valid token: %d %s; want 200", r.status, r.body)
	}
	if r := h.do(request{method: http.MethodGet, path: "/api/orders", token: "forged", remoteAddr: bystander}); r.status != http.StatusUnauthorized {
		t.Fatalf("another address's first bad token: %d; want 401", r.status)
	}
	// a successful request counts nothing: the bystander has 4 failures left
	for range 10 {
		h.do(request{method: http.MethodGet, path: "/api/orders", token: valid, remoteAddr: bystander})
	}
	if r := h.do(request{method: http.MethodGet, path: "/api/orders", token: "forged", remoteAddr: bystander}); r.status != http.StatusUnauthorized {
		t.Fatalf("after successful requests: %d; want 401 (only failures count)", r.status)
	}
}

func TestSandboxConfirmIsLimitedPerAddress(t *testing.T) {
	h := newHarness(t, limits(t, memoryCounts(t), "", "3-M", ""))
	confirm := func(addr string) response {
		return h.do(request{method: http.MethodPost, path: "/sandbox/payment-intents/pi_unknown/confirm",
			body: `{"clientSecret":"pi_unknown_secret_x","cardNumber":"4242 4242 4242 4242"}`, remoteAddr: addr})
	}
	for i := range 3 {
		if r := confirm("192.0.2.1:1"); r.status == http.StatusTooManyRequests {
			t.Fatalf("confirmation %d of 3 refused", i+1)
		}
	}
	confirm("192.0.2.1:1").wantProblem(t, http.StatusTooManyRequests, "rate_limited")
	if r := confirm("192.0.2.2:1"); r.status == http.StatusTooManyRequests {
		t.Fatal("another address was refused")
	}
}

// Two servers (replicas, each with its own database here) counting in one Redis enforce one
// limit between them.
func TestOrderLimitSharedByTwoServersThroughRedis(t *testing.T) {
	url := testenv.RedisURL(t)
	prefix := testenv.RedisKeyPrefix(t, url)
	replica := func() *harness {
		counts, closeCounts, err := ratelimit.New(ratelimit.Config{RedisURL: url, Prefix: prefix})
		if err != nil {
			t.Fatalf("ratelimit: %v", err)
		}
		t.Cleanup(closeCounts)
		return newHarness(t, limits(t, counts, "6-M", "", ""))
	}
	servers := []*harness{replica(), replica()}
	pids := []string{servers[0].product("Lamp", 1000, 100), servers[1].product("Lamp", 1000, 100)}
	tok := token(t, "hoarder", app.RoleCustomer)
	created := 0
	for i := range 12 {
		s := i % 2
		r := servers[s].do(request{method: http.MethodPost, path: "/api/orders", token: tok,
			body: orderBody(pids[s], "1"), remoteAddr: fmt.Sprintf("203.0.113.%d:1", i+1)})
		switch r.status {
		case http.StatusCreated:
			created++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("order %d: %d %s", i, r.status, r.body)
		}
	}
	if created != 6 {
		t.Fatalf("%d of 12 orders across two servers were created; want 6 (one limit shared in Redis)", created)
	}
}
