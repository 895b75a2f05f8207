package ratelimit_test

import (
	"context"
	"log/slog"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/ratelimit"
	"github.com/wolfix/orders/internal/testenv"
)

func TestLimitInMemory(t *testing.T) {
	counts := newCounts(t, ratelimit.Config{})
	limit := newLimit(t, counts, "orders", "3-M")
	ctx := context.Background()
	for i := range 3 {
		if d := limit.Take(ctx, "alice"); !d.Allowed || d.Limit != 3 || d.Remaining != int64(2-i) {
			t.Fatalf("take %d: got %+v; want allowed with %d remaining", i+1, d, 2-i)
		}
	}
	if d := limit.Check(ctx, "alice"); d.Allowed {
		t.Fatalf("check after 3 of 3: got %+v; want refused", d)
	}
	d := limit.Take(ctx, "alice")
	if d.Allowed || d.Remaining != 0 {
		t.Fatalf("take 4 of 3: got %+v; want refused", d)
	}
	if wait := d.RetryAfter(); wait < time.Second || wait > time.Minute+time.Second {
		t.Fatalf("retry after %v; want within the one-minute window", wait)
	}
	if d := limit.Take(ctx, "bob"); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("another key: got %+v; want its own window", d)
	}
	if d := newLimit(t, counts, "confirm", "3-M").Take(ctx, "alice"); !d.Allowed {
		t.Fatalf("another limit with the same key: got %+v; want its own window", d)
	}
}

func TestLimitCheckCountsNothing(t *testing.T) {
	limit := newLimit(t, newCounts(t, ratelimit.Config{}), "auth-failures", "2-M")
	for range 5 {
		if d := limit.Check(context.Background(), "10.0.0.1"); !d.Allowed || d.Remaining != 2 {
			t.Fatalf("check: got %+v; want allowed, nothing counted", d)
		}
	}
}

func TestOffIsNoLimit(t *testing.T) {
	limit, err := newCounts(t, ratelimit.Config{}).Limit("orders", ratelimit.Off)
	if err != nil || limit != nil {
		t.Fatalf("got %v, %v; want a nil limit", limit, err)
	}
	for _, bad := range []string{"", "30", "30-W", "0-M", "x-M"} {
		if _, err := newCounts(t, ratelimit.Config{}).Limit("orders", bad); err == nil {
			t.Errorf("rate %q: got no error", bad)
		}
	}
}

// Two replicas counting in one Redis enforce one limit between them.
func TestLimitSharedThroughRedisAcrossReplicas(t *testing.T) {
	url := testenv.RedisURL(t)
	cfg := ratelimit.Config{RedisURL: url, Prefix: testenv.RedisKeyPrefix(t, url)}
	replicaA := newLimit(t, newCounts(t, cfg), "orders", "5-M")
	replicaB := newLimit(t, newCounts(t, cfg), "orders", "5-M")
	ctx := context.Background()
	allowed := 0
	for i := range 10 {
		replica := replicaA
		if i%2 == 1 {
			replica = replicaB
		}
		if replica.Take(ctx, "customer-1").Allowed {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("%d of 10 requests allowed across two replicas; want 5 (one shared limit)", allowed)
	}
	if !replicaB.Take(ctx, "customer-2").Allowed {
		t.Fatal("another customer was refused")
	}
}

// With Redis cut, the limit still holds (counted in this process), each request waits at most
// the timeout, and the outage is logged once per back-off step, not once per request; when Redis
// is back, the counts go there again.
func TestRedisOutageFallsBackToMemoryAndLogsOncePerStep(t *testing.T) {
	url := testenv.RedisURL(t)
	parsed, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewTCPProxy(t, parsed.Host)
	logs := &testenv.Buffer{}
	cfg := ratelimit.Config{RedisURL: proxy.URL(t, url), Prefix: testenv.RedisKeyPrefix(t, url), Timeout: 100 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(logs, nil))}
	limit := newLimit(t, newCounts(t, cfg), "orders", "20-M")
	ctx := context.Background()
	if !limit.Take(ctx, "warm-up").Allowed {
		t.Fatal("warm-up refused")
	}

	proxy.Cut()
	start, allowed, slowest := time.Now(), 0, time.Duration(0)
	for range 500 {
		began := time.Now()
		if limit.Take(ctx, "customer-1").Allowed {
			allowed++
		}
		slowest = max(slowest, time.Since(began))
	}
	if allowed != 20 {
		t.Errorf("%d of 500 requests allowed with Redis cut; want 20 (the limit, counted in memory)", allowed)
	}
	if slowest > 500*time.Millisecond {
		t.Errorf("a request waited %v for a cut Redis; want at most about the 100ms timeout", slowest)
	}
	if n := strings.Count(logs.String(), "Redis is unreachable"); n != 1 {
		t.Errorf("%d log lines for 500 requests in %v (one back-off step); want 1:\n%s", n, time.Since(start), logs)
	}

	proxy.Restore()
	deadline := time.Now().Add(5 * time.Second) // the first step rests about a second
	for !strings.Contains(logs.String(), "Redis answers again") && time.Now().Before(deadline) {
		limit.Take(ctx, "customer-2")
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "Redis answers again") {
		t.Fatalf("Redis was not used again after it came back:\n%s", logs)
	}
}

func newCounts(t *testing.T, cfg ratelimit.Config) *ratelimit.Counts {
	t.Helper()
	counts, closeCounts, err := ratelimit.New(cfg)
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	t.Cleanup(closeCounts)
	return counts
}

func newLimit(t *testing.T, counts *ratelimit.Counts, name, rate string) *ratelimit.Limit {
	t.Helper()
	limit, err := counts.Limit(name, rate)
	if err != nil {
		t.Fatalf("limit %s %s: %v", name, rate, err)
	}
	return limit
}
