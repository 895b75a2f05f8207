package httpapi_test

// Benchmarks of the HTTP surface in process: the real handler (gin routes, request id, access log
// at info level formatted as JSON into io.Discard, bearer authentication, decoding, the app layer)
// over the real SQLite store and outbox, called through httptest without a socket. They print
// ns/op, allocations and requests/s; they assert no speed. Run them with
//
//	go test -run '^$' -bench . -benchmem ./internal/adapters/httpapi/

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/adapters/stripe"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
)

// benchParallelism multiplies GOMAXPROCS into RunParallel's goroutines, as concurrent clients.
const benchParallelism = 4

// BenchmarkHTTPPlaceOrderSQLite is POST /api/orders (cash on delivery, one unit of a big-stock
// product): plain, and with a fresh Idempotency-Key per request (which claims and completes the
// key around the checkout).
func BenchmarkHTTPPlaceOrderSQLite(b *testing.B) {
	for _, idempotent := range []bool{false, true} {
		name := "plain"
		if idempotent {
			name = "idempotency-key"
		}
		b.Run(name, func(b *testing.B) {
			srv := newBenchServer(b)
			body := `{"items":[{"productId":"` + srv.productID + `","quantity":1}],` + recipientAndCourier + `}`
			var seq atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, "/api/orders", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+srv.token)
					if idempotent {
						req.Header.Set("Idempotency-Key", "bench-"+strconv.FormatInt(seq.Add(1), 10))
					}
					if code := srv.serve(req); code != http.StatusCreated {
						b.Errorf("POST /api/orders: status %d; want 201", code)
						return
					}
				}
			})
			reportRequestRate(b)
		})
	}
}

// BenchmarkHTTPReadsSQLite is the read side: the product list, and one order with its items,
// payment and timeline.
func BenchmarkHTTPReadsSQLite(b *testing.B) {
	srv := newBenchServer(b)
	body := `{"items":[{"productId":"` + srv.productID + `","quantity":1}],` + recipientAndCourier + `}`
	req := httptest.NewRequest(http.MethodPost, "/api/orders", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+srv.token)
	rec := httptest.NewRecorder()
	srv.handler.ServeHTTP(rec, req)
	orderID := between(rec.Body.String(), `"orderId":"`, `"`)
	if rec.Code != http.StatusCreated || orderID == "" {
		b.Fatalf("place order: %d %s", rec.Code, rec.Body)
	}
	for _, path := range []string{"/api/products", "/api/orders/" + orderID} {
		b.Run(strings.ReplaceAll(strings.TrimPrefix(path, "/api/"), "/"+orderID, "/{id}"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodGet, path, nil)
					req.Header.Set("Authorization", "Bearer "+srv.token)
					if code := srv.serve(req); code != http.StatusOK {
						b.Errorf("GET %s: status %d; want 200", path, code)
						return
					}
				}
			})
			reportRequestRate(b)
		})
	}
}

// benchServer is the HTTP handler over a fresh SQLite database holding one big-stock product.
type benchServer struct {
	handler   http.Handler
	token     string
	productID string
}

func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	ctx := context.Background()
	log := slog.New(httpapi.LogHandler(slog.NewJSONHandler(io.Discard, nil)))
	db, dialect, err := sqlstore.Open(ctx, "", b.TempDir())
	if err != nil {
		b.Fatalf("open store: %v", err)
	}
	b.Cleanup(func() { _ = db.Close() })
	if _, err := sqlstore.Migrate(ctx, db, dialect); err != nil {
		b.Fatalf("migrate: %v", err)
	}
	opener, err := outbox.NewOpener(string(dialect), log)
	if err != nil {
		b.Fatalf("outbox: %v", err)
	}
	store := sqlstore.NewStore(db, dialect, sqlstore.OutboxOpener(opener))
	verifier, err := stripe.NewVerifier(webhookSecret)
	if err != nil {
		b.Fatalf("verifier: %v", err)
	}
	authn, err := auth.NewAuthenticator(jwtSecret, nil)
	if err != nil {
		b.Fatalf("authenticator: %v", err)
	}
	gateway := sandbox.New(sandbox.Config{Logger: log})
	fee, err := money.New(courierFee, money.USD)
	if err != nil {
		b.Fatal(err)
	}
	application := app.New(app.Dependencies{Store: store, Providers: mustProviders(gateway, verifier),
		Pricing: app.Pricing{Currency: money.USD, Fees: map[order.DeliveryMethod]money.Money{order.DeliveryCourier: fee}},
		Clock:   app.SystemClock{}, Log: log, Reconciler: app.ReconcilerConfig{After: time.Hour, TTL: time.Hour}})
	srv, err := httpapi.NewServer(httpapi.Config{App: application, Auth: authn, Idempotency: store.Idempotency(),
		Log: log, Public: httpapi.PublicConfig{Provider: sandbox.ProviderName, Currency: "USD"}, Sandbox: gateway})
	if err != nil {
		b.Fatalf("new server: %v", err)
	}
	price, err := money.New(1999, money.USD)
	if err != nil {
		b.Fatal(err)
	}
	p, err := catalog.NewProduct(app.NewID(), "bench-seller", "Benchmark widget", price, catalog.MaxStock, "", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Products().Add(ctx, p); err != nil {
		b.Fatalf("add product: %v", err)
	}
	tok, err := auth.Mint(jwtSecret, "bench-customer", []app.Role{app.RoleCustomer}, time.Hour)
	if err != nil {
		b.Fatalf("mint: %v", err)
	}
	return &benchServer{handler: srv.Handler(), token: tok, productID: p.ID()}
}

// serve runs one request through the handler and returns its status.
func (s *benchServer) serve(req *http.Request) int {
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec.Code
}

func reportRequestRate(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "req/s")
	}
}

// between returns the text of s after the first open and before the next close, or "".
func between(s, open, close string) string {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, close)
	return v
}
