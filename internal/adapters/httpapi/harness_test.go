package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/adapters/httpapi/openapitest"
	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/adapters/stripe"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
	"github.com/wolfix/orders/internal/testenv"
)

// The HTTP adapter is tested through its real handler, wired to the real SQLite store, the real
// outbox, the sandbox gateway and the Stripe webhook verifier: what a client sees is what the
// service does.

const (
	jwtSecret     = "httpapi-test-secret-long-enough-for-hs256"
	webhookSecret = "whsec_httpapi_test"
	courierFee    = 700 // minor units
)

// harness is one service over a fresh database, listening on a loopback port so that the sandbox
// can deliver its signed webhooks to /webhooks/stripe.
type harness struct {
	t       testing.TB
	handler http.Handler
	url     string
	store   *sqlstore.Store
	gateway *sandbox.Gateway
	// providerDown makes creating intents fail as if the provider were unreachable.
	providerDown *atomic.Bool
	// refundsDown makes refunds fail as if the provider were unreachable.
	refundsDown *atomic.Bool
	// readsDown makes reading intents fail as if the provider were unreachable.
	readsDown *atomic.Bool
	// app is the application behind the handler, for the background work (the reconciler).
	app *app.Application
	// clock is the application's clock; tests move it forward.
	clock *testClock
	logs  *testenv.Buffer
	// seller owns the seeded products.
	seller string
}

type harnessOption func(*httpapi.Config)

// harnessSetup changes what newHarnessWith assembles.
type harnessSetup struct {
	// noWebhooks keeps the sandbox from delivering its events: a webhook lost on the way.
	noWebhooks bool
	// reconciler configures the reconciler; zero is After 1m, TTL 1h.
	reconciler app.ReconcilerConfig
	// intents, when set, changes every intent request before the sandbox sees it: a provider
	// that creates intents not matching the order.
	intents func(app.IntentRequest) app.IntentRequest
	// readDelay makes every read of an intent take this long: a slow provider.
	readDelay time.Duration
	// databaseURL, when set, stores on that PostgreSQL database instead of a SQLite file.
	databaseURL string
	// discardLogs drops the logs instead of keeping them for the test to read (the fuzzer's
	// millions of requests would fill the memory).
	discardLogs bool
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	return newHarnessWith(t, harnessSetup{}, opts...)
}

func newHarnessWith(t testing.TB, setup harnessSetup, opts ...harnessOption) *harness {
	t.Helper()
	ctx := context.Background()
	logs := &testenv.Buffer{}
	var sink io.Writer = logs
	if setup.discardLogs {
		sink = io.Discard
	}
	log := slog.New(httpapi.LogHandler(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug})))

	db, dialect, err := sqlstore.Open(ctx, setup.databaseURL, t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := sqlstore.Migrate(ctx, db, dialect); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	opener, err := outbox.NewOpener(string(dialect), log)
	if err != nil {
		t.Fatalf("outbox: %v", err)
	}
	store := sqlstore.NewStore(db, dialect, sqlstore.OutboxOpener(opener))

	delivery, err := sandbox.NewDelivery(sandbox.DeliveryConfig{Secret: webhookSecret, Logger: log,
		InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("sandbox delivery: %v", err)
	}
	var events sandbox.EventSink = delivery
	if setup.noWebhooks {
		events = nil
	}
	gateway := sandbox.New(sandbox.Config{Events: events, Logger: log})
	unreliable := &unreliableGateway{Gateway: gateway, down: &atomic.Bool{}, refundsDown: &atomic.Bool{},
		readsDown: &atomic.Bool{}, intents: setup.intents, readDelay: setup.readDelay}
	verifier, err := stripe.NewVerifier(webhookSecret)
	if err != nil {
		t.Fatalf("verifier: %v", err)
	}
	authn, err := auth.NewAuthenticator(jwtSecret, nil)
	if err != nil {
		t.Fatalf("authenticator: %v", err)
	}

	clock := &testClock{}
	rc := setup.reconciler
	if rc == (app.ReconcilerConfig{}) {
		rc = app.ReconcilerConfig{After: time.Minute, TTL: time.Hour}
	}
	application := newApplication(store, unreliable, verifier, clock, rc, log)
	runInbox(t, application) // webhooks are processed off the request, as in serve
	cfg := httpapi.Config{
		App:         application,
		Auth:        authn,
		Idempotency: store.Idempotency(),
		Clock:       clock, // Idempotency-Key leases run on the test's clock
		Log:         log,
		Checks:      []httpapi.Check{{Name: "database", Probe: store.Ping}},
		Public:      httpapi.PublicConfig{Provider: sandbox.ProviderName, Currency: "USD"},
		Sandbox:     gateway,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := httpapi.NewServer(cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	watch := &contractWatch{next: srv.Handler()}
	t.Cleanup(func() { watch.report(t) }) // runs last: after the deliveries have stopped
	listener := httptest.NewServer(watch)
	delivery.SetTarget(listener.URL + "/webhooks/stripe")
	t.Cleanup(func() {
		_ = delivery.Close()
		listener.Close()
	})
	return &harness{t: t, handler: srv.Handler(), url: listener.URL, store: store, gateway: gateway,
		providerDown: unreliable.down, refundsDown: unreliable.refundsDown, readsDown: unreliable.readsDown,
		app: application, clock: clock, logs: logs, seller: "seller-1"}
}

// contractWatch serves next and checks every response against openapi.yaml, for the requests that
// do not go through h.do (the sandbox's webhook deliveries); the test fails at its end with what
// did not conform.
type contractWatch struct {
	next     http.Handler
	mu       sync.Mutex
	failures []error
}

func (c *contractWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tee := &teeWriter{ResponseWriter: w, status: http.StatusOK}
	c.next.ServeHTTP(tee, r)
	if err := openapitest.Check(r, tee.status, w.Header(), tee.body.Bytes()); err != nil {
		c.mu.Lock()
		c.failures = append(c.failures, err)
		c.mu.Unlock()
	}
}

func (c *contractWatch) report(t testing.TB) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, err := range c.failures {
		t.Error(err)
	}
}

// teeWriter passes a response through and keeps its status and a copy of its body.
type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// bothDatabases are the harness set-ups of the two databases, by name: a SQLite file, and a fresh
// PostgreSQL database.
func bothDatabases() map[string]func(t *testing.T) harnessSetup {
	return map[string]func(t *testing.T) harnessSetup{
		"sqlite":   func(*testing.T) harnessSetup { return harnessSetup{} },
		"postgres": func(t *testing.T) harnessSetup { return harnessSetup{databaseURL: testenv.PostgresURL(t)} },
	}
}

// testClock is the real time (app.SystemClock's) moved forward by an offset the test chooses.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time {
	return app.SystemClock{}.Now().Add(time.Duration(c.offset.Load()))
}

// advance moves the clock forward by d.
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// unreliableGateway is the sandbox with switches that take the provider down, and optionally a
// change to every intent request (to make intents that do not match their order).
type unreliableGateway struct {
	*sandbox.Gateway
	down        *atomic.Bool
	refundsDown *atomic.Bool
	readsDown   *atomic.Bool
	intents     func(app.IntentRequest) app.IntentRequest
	readDelay   time.Duration
}

func (g *unreliableGateway) CreateIntent(ctx context.Context, req app.IntentRequest) (payment.Intent, error) {
	if g.down.Load() {
		return payment.Intent{}, app.ErrProviderUnavailable
	}
	if g.intents != nil {
		req = g.intents(req)
	}
	return g.Gateway.CreateIntent(ctx, req)
}

func (g *unreliableGateway) GetIntent(ctx context.Context, id string) (payment.Intent, error) {
	if g.readsDown.Load() {
		return payment.Intent{}, app.ErrProviderUnavailable
	}
	time.Sleep(g.readDelay)
	return g.Gateway.GetIntent(ctx, id)
}

func (g *unreliableGateway) Refund(ctx context.Context, req app.RefundRequest) (app.RefundResult, error) {
	if g.refundsDown.Load() {
		return app.RefundResult{}, app.ErrProviderUnavailable
	}
	return g.Gateway.Refund(ctx, req)
}

func newApplication(store app.Store, gw app.PaymentGateway, verifier app.WebhookVerifier, clock app.Clock,
	rc app.ReconcilerConfig, log *slog.Logger) *app.Application {
	pricing := app.Pricing{Currency: money.USD, Fees: map[order.DeliveryMethod]money.Money{
		order.DeliveryCourier: mustMoney(courierFee), order.DeliveryBranch: mustMoney(300),
		order.DeliveryLocker: mustMoney(200)}}
	return app.New(app.Dependencies{Store: store, Providers: mustProviders(gw, verifier), Pricing: pricing,
		Clock: clock, Log: log, Reconciler: rc})
}

// mustProviders enables the sandbox gw alone, with verifier for its webhooks; as in the service, it
// plays Stripe, so /webhooks/stripe reaches it.
func mustProviders(gw app.PaymentGateway, verifier app.WebhookVerifier) *app.Providers {
	providers, err := app.NewProviders(app.PaymentProvider{Gateway: gw, Verifier: verifier, StandsInFor: "stripe"})
	if err != nil {
		panic(err)
	}
	return providers
}

func mustMoney(minor int64) money.Money {
	m, err := money.New(minor, money.USD)
	if err != nil {
		panic(err)
	}
	return m
}

// product stores a product of the harness's seller and returns its id.
func (h *harness) product(title string, priceMinor, stock int64) string {
	h.t.Helper()
	p, err := catalog.NewProduct(app.NewID(), h.seller, title, mustMoney(priceMinor), stock, "", time.Now())
	if err != nil {
		h.t.Fatalf("new product: %v", err)
	}
	if err := h.store.Products().Add(context.Background(), p); err != nil {
		h.t.Fatalf("add product: %v", err)
	}
	return p.ID()
}

// stock returns a product's stock as stored.
func (h *harness) stock(id string) int64 {
	h.t.Helper()
	p, err := h.store.Products().Get(context.Background(), id)
	if err != nil {
		h.t.Fatalf("get product: %v", err)
	}
	return p.Stock()
}

// orderCount returns how many orders exist.
func (h *harness) orderCount() int {
	h.t.Helper()
	orders, _, err := h.store.Orders().List(context.Background(), app.OrderQuery{Limit: app.MaxPageSize})
	if err != nil {
		h.t.Fatalf("list orders: %v", err)
	}
	return len(orders)
}

// token mints a bearer token for sub with roles.
func token(t testing.TB, sub string, roles ...app.Role) string {
	t.Helper()
	tok, err := auth.Mint(jwtSecret, sub, roles, time.Hour)
	if err != nil {
		t.Fatalf("mint: %v", err)
	}
	return tok
}

// request describes one call; body is sent as application/json unless contentType says otherwise.
type request struct {
	method, path, token, body, contentType string
	header                                 map[string]string
	// remoteAddr, when set, is the client address (host:port) the server sees.
	remoteAddr string
	// provokesBug marks a request that deliberately makes the server fail (a panic): its 500 is
	// what the test checks, and no operation documents it, so openapi.yaml does not judge it.
	provokesBug bool
}

// response is what came back.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (h *harness) do(r request) response {
	h.t.Helper()
	var body io.Reader = http.NoBody
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if r.body != "" {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if r.remoteAddr != "" {
		req.RemoteAddr = r.remoteAddr
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	resp := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if !r.provokesBug {
		if err := openapitest.Check(req, resp.status, resp.header, resp.body); err != nil {
			h.t.Error(err)
		}
	}
	return resp
}

// decode reads the response body into v.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problem is the RFC 9457 body every failure carries.
type problem struct {
	Type, Title, Detail, Code, RequestID string
	Status                               int
}

// wantProblem checks that r is a problem with status and code.
func (r response) wantProblem(t *testing.T, status int, code string) problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d; want %d (body %s)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q; want application/problem+json", ct)
	}
	var p problem
	r.decode(t, &p)
	if p.Code != code || p.Status != status || p.Type != "https://wolfix.dev/problems/"+code || p.Title == "" || p.RequestID == "" {
		t.Errorf("problem = %+v; want code %q, status %d, its type URI, a title and a request id", p, code, status)
	}
	return p
}

// testenv.Buffer is a log sink that tests may read while the server writes.
// orderBody renders a checkout body for one product.
func orderBody(productID string, quantity string) string {
	return `{"items":[{"productId":"` + productID + `","quantity":` + quantity + `}],` + recipientAndCourier + `}`
}

const recipientAndCourier = `"recipient":{"firstName":"Olena","lastName":"Koval","middleName":null,` +
	`"phoneNumber":"+380501234567","email":"olena@example.com"},` +
	`"delivery":{"method":"courier","city":"Kyiv","street":"Khreshchatyk","houseNumber":"22","branchNumber":null}`
