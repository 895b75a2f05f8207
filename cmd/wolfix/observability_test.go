package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/telemetry"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/testenv"
)

// The observability tests run `wolfix serve`'s own assembly (newServer, then run) inside the test
// process, on the embedded default (SQLite, in-process broker, sandbox payments), so that they can
// install a tracer provider with the OpenTelemetry SDK's in-memory exporter and read the spans.

const inProcessJWTSecret = "observability-tests-only-not-a-real-secret"

// brokersRegistered and providersRegistered register the broker kinds and the payment providers
// once per test binary, as main does per process.
var brokersRegistered, providersRegistered sync.Once

// startInProcess serves on a free loopback port until the test ends; tune adjusts the defaults.
func startInProcess(t *testing.T, tune func(cfg *config.Config)) *service {
	t.Helper()
	return serveInProcess(t, inProcessConfig(t, tune))
}

// inProcessConfig is the default configuration on a free loopback port and a fresh data dir,
// adjusted by tune.
func inProcessConfig(t *testing.T, tune func(cfg *config.Config)) config.Config {
	t.Helper()
	brokersRegistered.Do(registerBrokers)
	providersRegistered.Do(registerPaymentProviders)
	cfg := config.Defaults()
	cfg.HTTPAddr, cfg.DataDir, cfg.JWTSecret = freeAddr(t), t.TempDir(), inProcessJWTSecret
	tune(&cfg)
	return cfg
}

// serveInProcess runs newServer(cfg) until the test ends.
func serveInProcess(t *testing.T, cfg config.Config) *service {
	t.Helper()
	logs := &testenv.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	srv, cleanup, err := newServer(ctx, cfg, inProcessLogger(logs))
	if err != nil {
		cancel()
		t.Fatalf("newServer: %v", err)
	}
	s := &service{t: t, base: "http://" + cfg.HTTPAddr, logs: logs, tokens: map[string]string{},
		client: &http.Client{Timeout: 10 * time.Second}}
	runUntilCleanup(t, "serve", logs, cancel, func() error {
		defer cleanup()
		return srv.run(ctx)
	})
	s.waitHealthy()
	return s
}

// relayInProcess runs `wolfix relay` with cfg until the test ends; it serves its operations
// endpoints on cfg.OpsAddr.
func relayInProcess(t *testing.T, cfg config.Config) {
	t.Helper()
	logs := &testenv.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	runUntilCleanup(t, "relay", logs, cancel, func() error { return relay(ctx, cfg, inProcessLogger(logs)) })
}

func inProcessLogger(w io.Writer) *slog.Logger {
	return slog.New(withRequestContext(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

// runUntilCleanup runs fn in the background; when the test ends it cancels fn's context and
// waits for it, and shows fn's logs if the test failed.
func runUntilCleanup(t *testing.T, name string, logs *testenv.Buffer, cancel context.CancelFunc, fn func() error) {
	stopped := make(chan error, 1)
	go func() { stopped <- fn() }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("%s stopped with %v", name, err)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, logs.String())
		}
	})
}

// mint returns a token of the in-process server for sub with role.
func mint(t *testing.T, sub string, role app.Role) string {
	t.Helper()
	tok, err := auth.MintFor(inProcessJWTSecret, sub, []app.Role{role}, time.Hour, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Issue 12 (2): one card checkout (order, sandbox confirmation, the client's PATCH /paid) makes
// one trace that holds the PATCH request, the SQL of its transaction, the outbox write of
// orders.paid, its relay to the broker and every consumer's handling of it; the request's log
// lines carry the trace id.
func TestObservabilityTraceFollowsACheckoutToTheConsumers(t *testing.T) {
	tracing, exporter := startTestTracing(t)
	// no sandbox webhook and a slow reconciler: the PATCH is what settles the payment
	s := startInProcess(t, func(cfg *config.Config) { cfg.SandboxWebhooks = false })
	checkoutIsOneTrace(t, s, tracing, exporter)
}

// The same across processes, as in production: API replicas without the relay on Postgres, a
// `wolfix relay` publishing to NATS JetStream, the consumers reading from it. The trace context
// rides in the outbox row and in the NATS message headers. The relay's /metrics (on its
// operations address) shows what it published.
func TestObservabilityTraceCrossesTheRelayProcessAndNATS(t *testing.T) {
	tracing, exporter := startTestTracing(t)
	stream := newNATSStream(t, testenv.NATSURL(t))
	cfg := inProcessConfig(t, func(cfg *config.Config) {
		cfg.DatabaseURL, cfg.SeedDemo, cfg.SandboxWebhooks, cfg.RunRelay = testenv.PostgresURL(t), "true", false, false
		cfg.BrokerKind, cfg.NATSURL, cfg.NATSStream, cfg.NATSSubjectPrefix = "nats", stream.url, stream.name, stream.prefix
		cfg.OpsAddr = freeAddr(t)
	})
	s := serveInProcess(t, cfg)
	relayInProcess(t, cfg)
	checkoutIsOneTrace(t, s, tracing, exporter)

	ops := &service{t: t, base: "http://" + cfg.OpsAddr, client: s.client}
	published := `wolfix_outbox_events_published_total{topic="orders.paid"}`
	if got := awaitSeries(t, ops, func(m map[string]float64) bool { return m[published] > 0 }); got[published] < 1 {
		t.Errorf("the relay's /metrics: %s = %v; want at least 1", published, got[published])
	}
}

// startTestTracing installs a tracer provider exporting to memory until the test ends.
func startTestTracing(t *testing.T) (*telemetry.Tracing, *tracetest.InMemoryExporter) {
	t.Helper()
	exporter := tracetest.NewInMemoryExporter()
	tracing, err := telemetry.Start(context.Background(), telemetry.Config{ServiceName: "wolfix", Exporter: exporter})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tracing.Shutdown(context.Background()) })
	return tracing, exporter
}

// checkoutIsOneTrace places a card order, pays it in the sandbox, confirms it with PATCH /paid,
// and checks the trace of that PATCH.
func checkoutIsOneTrace(t *testing.T, s *service, tracing *telemetry.Tracing, exporter *tracetest.InMemoryExporter) {
	t.Helper()
	customer := mint(t, "customer-otel", app.RoleCustomer)
	id, secret, _ := s.cardOrder(customer, s.pickProduct(1).id, 1)
	s.expect(s.confirmCard(secret, cardOK), http.StatusOK, "")
	s.expect(s.do(http.MethodPatch, "/api/orders/"+id+"/paid", customer, nil), http.StatusNoContent, "")

	spans := awaitSpans(t, tracing, exporter, func(spans tracetest.SpanStubs) bool {
		return len(named(spans, "process orders.paid")) >= 2 // notifications and fulfillment
	})
	patch := only(t, named(spans, "PATCH /api/orders/:orderId/paid"))
	if patch.SpanKind != trace.SpanKindServer {
		t.Errorf("PATCH span kind = %v; want server", patch.SpanKind)
	}
	inTrace := sameTrace(spans, patch.SpanContext.TraceID())
	write := only(t, named(inTrace, "outbox write orders.paid"))
	relay := only(t, named(inTrace, "outbox relay orders.paid"))
	if !descends(inTrace, write, patch) {
		t.Errorf("the outbox write of orders.paid does not descend from the PATCH request")
	}
	// the write happened inside the request's transaction: after its BEGIN and before its COMMIT
	// (bun makes COMMIT the child of BEGIN), beside the transaction's UPDATE
	begin, commit := enclosingTransaction(inTrace, write)
	if begin.Name != "BEGIN" || commit.Name != "COMMIT" || !descends(inTrace, begin, patch) {
		t.Errorf("no BEGIN…COMMIT of the PATCH's encloses the outbox write (got %q…%q)", begin.Name, commit.Name)
	}
	var updated bool
	for _, sp := range inTrace {
		updated = updated || sp.Name == "UPDATE" && sp.Parent.SpanID() == write.Parent.SpanID() &&
			sp.StartTime.After(begin.StartTime) && sp.EndTime.Before(commit.StartTime)
	}
	if !updated {
		t.Errorf("no UPDATE in the transaction that wrote orders.paid")
	}
	if relay.Parent.SpanID() != write.SpanContext.SpanID() {
		t.Errorf("the relay's span is not the outbox write's child")
	}
	consumers := named(spans, "process orders.paid")
	for _, c := range consumers {
		if c.SpanContext.TraceID() != patch.SpanContext.TraceID() || c.Parent.SpanID() != relay.SpanContext.SpanID() {
			t.Errorf("consumer span %s (trace %s, parent %s) did not join the request's trace %s under the relay",
				groupOf(c), c.SpanContext.TraceID(), c.Parent.SpanID(), patch.SpanContext.TraceID())
		}
	}
	var sqlOps []string
	for _, sp := range inTrace {
		if hasAttribute(sp, "db.system") && descends(inTrace, sp, patch) {
			sqlOps = append(sqlOps, sp.Name)
		}
	}
	for _, op := range []string{"BEGIN", "SELECT", "UPDATE", "COMMIT"} {
		if !slices.Contains(sqlOps, op) {
			t.Errorf("no %s span under the PATCH request; its SQL spans: %v", op, sqlOps)
		}
	}
	if !strings.Contains(s.logs.String(), "trace_id="+patch.SpanContext.TraceID().String()) {
		t.Errorf("no log line carries the request's trace_id %s", patch.SpanContext.TraceID())
	}
	t.Logf("trace %s: %d spans; SQL under the request: %v; consumers: %d",
		patch.SpanContext.TraceID(), len(inTrace), sqlOps, len(consumers))
}

// awaitSpans flushes the exporter until done accepts what it holds, for at most 15 s.
func awaitSpans(t *testing.T, tracing *telemetry.Tracing, exporter *tracetest.InMemoryExporter,
	done func(tracetest.SpanStubs) bool) tracetest.SpanStubs {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err := tracing.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		spans := exporter.GetSpans()
		if done(spans) {
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spans never showed what the test waits for; got %v", names(spans))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func named(spans tracetest.SpanStubs, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, sp := range spans {
		if sp.Name == name {
			out = append(out, sp)
		}
	}
	return out
}

func names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, sp := range spans {
		out[i] = sp.Name
	}
	return out
}

func only(t *testing.T, spans tracetest.SpanStubs) tracetest.SpanStub {
	t.Helper()
	if len(spans) != 1 {
		t.Fatalf("got %d spans %v; want exactly one", len(spans), names(spans))
	}
	return spans[0]
}

func sameTrace(spans tracetest.SpanStubs, id trace.TraceID) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, sp := range spans {
		if sp.SpanContext.TraceID() == id {
			out = append(out, sp)
		}
	}
	return out
}

// descends reports whether sp has ancestor among its parents in spans.
func descends(spans tracetest.SpanStubs, sp, ancestor tracetest.SpanStub) bool {
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID()] = s
	}
	for seen := 0; sp.Parent.IsValid() && seen < len(spans); seen++ {
		if sp.Parent.SpanID() == ancestor.SpanContext.SpanID() {
			return true
		}
		parent, ok := byID[sp.Parent.SpanID()]
		if !ok {
			return false
		}
		sp = parent
	}
	return false
}

// enclosingTransaction finds the BEGIN span beside sp (same parent) whose COMMIT child came
// after sp ended, the latest such BEGIN that started before sp; zero spans when there is none.
func enclosingTransaction(spans tracetest.SpanStubs, sp tracetest.SpanStub) (begin, commit tracetest.SpanStub) {
	for _, b := range spans {
		if b.Name != "BEGIN" || b.Parent.SpanID() != sp.Parent.SpanID() || b.StartTime.After(sp.StartTime) ||
			begin.Name != "" && b.StartTime.Before(begin.StartTime) {
			continue
		}
		for _, c := range spans {
			if c.Name == "COMMIT" && c.Parent.SpanID() == b.SpanContext.SpanID() && !c.StartTime.Before(sp.EndTime) {
				begin, commit = b, c
			}
		}
	}
	return begin, commit
}

func hasAttribute(sp tracetest.SpanStub, key string) bool {
	for _, kv := range sp.Attributes {
		if string(kv.Key) == key {
			return true
		}
	}
	return false
}

func groupOf(sp tracetest.SpanStub) string {
	for _, kv := range sp.Attributes {
		if kv.Key == "messaging.consumer.group.name" {
			return kv.Value.AsString()
		}
	}
	return "?"
}

// Issue 12 (3): after a checkout whose webhook is lost (the reconciler settles it), a webhook
// that arrives late and a refund, the API's /metrics shows every series the alert rules and the
// dashboard use, with non-zero values.
func TestObservabilityMetricsAfterACheckout(t *testing.T) {
	s := startInProcess(t, func(cfg *config.Config) {
		cfg.SandboxWebhooks, cfg.StripeWebhookSecret = false, testWebhookSecret
		cfg.ReconcileAfter, cfg.ReconcileEvery = 200*time.Millisecond, 100*time.Millisecond
	})
	customer, admin := mint(t, "customer-metrics", app.RoleCustomer), mint(t, "admin-metrics", app.RoleAdmin)
	id, secret, intent := s.cardOrder(customer, s.pickProduct(1).id, 1)
	s.expect(s.confirmCard(secret, cardOK), http.StatusOK, "")
	s.awaitOrder(id, customer, func(o map[string]any) bool { return o["paymentStatus"] == "Paid" })
	s.mustWebhook(intentEvent("evt_metrics_late", "payment_intent.succeeded", intent, id, 0, "succeeded"))
	s.expect(s.do(http.MethodPost, "/api/orders/"+id+"/refunds", admin, map[string]any{}), http.StatusCreated, "")

	want := []string{
		`wolfix_http_request_duration_seconds_count{method="POST",route="/api/orders/with-payment",status="201"}`,
		`wolfix_http_request_duration_seconds_count{method="POST",route="/api/orders/:orderId/refunds",status="201"}`,
		`wolfix_payments_total{outcome="paid",provider="sandbox"}`,
		`wolfix_reconciler_actions_total{kind="payment_settled"}`,
		`wolfix_webhook_events_total{outcome="processed",type="payment_intent.succeeded"}`,
		`wolfix_refunds_total{currency="USD",outcome="succeeded"}`,
		`wolfix_refunded_amount_minor_units_total{currency="USD"}`,
		`wolfix_outbox_events_published_total{topic="orders.paid"}`,
		`wolfix_outbox_events_published_total{topic="orders.refunded"}`,
		`wolfix_outbox_relay_lag_seconds_count`,
		`go_sql_max_open_connections{db_name="wolfix"}`,
	}
	series := awaitSeries(t, s, func(series map[string]float64) bool {
		for _, name := range want {
			if series[name] <= 0 {
				return false
			}
		}
		return true
	})
	for _, name := range want {
		if _, ok := series[name]; !ok {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if _, ok := series["wolfix_outbox_backlog"]; !ok {
		t.Errorf("/metrics has no wolfix_outbox_backlog on a process that relays")
	}
	if build := withPrefix(series, "wolfix_build_info{"); len(build) != 1 || build[0].value != 1 ||
		!strings.Contains(build[0].name, `goversion="go`) {
		t.Errorf("wolfix_build_info = %v; want one series of value 1 naming the Go version", build)
	}
	if got := series[`wolfix_refunded_amount_minor_units_total{currency="USD"}`]; got != float64(int64(got)) {
		t.Errorf("refunded amount %v is not a whole number of minor units", got)
	}
}

// Issue 12: an API replica that does not run the relay exports no wolfix_outbox_* series (they
// would stay at zero however many events its relays publish).
func TestObservabilityReplicaWithoutRelayHasNoOutboxSeries(t *testing.T) {
	s := startInProcess(t, func(cfg *config.Config) { cfg.RunRelay = false })
	series := scrape(t, s)
	if got := withPrefix(series, "wolfix_outbox_"); len(got) > 0 {
		t.Errorf("a replica without the relay exports %v", got)
	}
	if _, ok := series[`go_sql_max_open_connections{db_name="wolfix"}`]; !ok {
		t.Errorf("the replica lacks the database pool series")
	}
}

// awaitSeries scrapes /metrics until done accepts it, for at most 15 s.
func awaitSeries(t *testing.T, s *service, done func(map[string]float64) bool) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		series := scrape(t, s)
		if done(series) || time.Now().After(deadline) {
			return series
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scrape reads /metrics into series name (with its labels as exposed) → value.
func scrape(t *testing.T, s *service) map[string]float64 {
	t.Helper()
	r := s.do(http.MethodGet, "/metrics", "", nil)
	s.expect(r, http.StatusOK, "")
	series, err := parseExposition(r.raw)
	if err != nil {
		t.Fatalf("/metrics: %v\n%s", err, r.raw)
	}
	return series
}

// parseExposition reads the Prometheus text format's sample lines.
func parseExposition(raw []byte) (map[string]float64, error) {
	series := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("malformed sample %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("sample %q: %w", line, err)
		}
		series[line[:i]] = v
	}
	if len(series) == 0 {
		return nil, errors.New("no samples")
	}
	return series, sc.Err()
}

type sample struct {
	name  string
	value float64
}

func withPrefix(series map[string]float64, prefix string) []sample {
	var out []sample
	for name, v := range series {
		if strings.HasPrefix(name, prefix) {
			out = append(out, sample{name, v})
		}
	}
	return out
}
