package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/app"
)

func TestIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Keyboard", 12999, 10)
	customer := token(t, "customer-1", app.RoleCustomer)
	post := func(key, body string) response {
		return h.do(request{method: http.MethodPost, path: "/api/orders/with-payment", token: customer, body: body,
			header: map[string]string{httpapi.IdempotencyKeyHeader: key}})
	}

	t.Run("a replay returns the stored answer and creates nothing", func(t *testing.T) {
		first := post("order-1", orderBody(pid, "1"))
		if first.status != http.StatusCreated || first.header.Get(httpapi.ReplayedHeader) != "" {
			t.Fatalf("first: status %d replayed %q; want 201, not replayed", first.status, first.header.Get(httpapi.ReplayedHeader))
		}
		second := post("order-1", orderBody(pid, "1"))
		if second.status != http.StatusCreated || second.header.Get(httpapi.ReplayedHeader) != "true" || !bytes.Equal(second.body, first.body) {
			t.Fatalf("replay: status %d replayed %q body %s; want 201, replayed, %s", second.status,
				second.header.Get(httpapi.ReplayedHeader), second.body, first.body)
		}
		if n, stock := h.orderCount(), h.stock(pid); n != 1 || stock != 9 {
			t.Errorf("after a replay: %d orders, stock %d; want 1 order, stock 9", n, stock)
		}
	})

	t.Run("the same key with another body is refused", func(t *testing.T) {
		post("order-1", orderBody(pid, "2")).wantProblem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
		if n := h.orderCount(); n != 1 {
			t.Errorf("orders = %d; want 1", n)
		}
	})

	t.Run("keys are per user", func(t *testing.T) {
		r := h.do(request{method: http.MethodPost, path: "/api/orders/with-payment", token: token(t, "customer-2", app.RoleCustomer),
			body: orderBody(pid, "1"), header: map[string]string{httpapi.IdempotencyKeyHeader: "order-1"}})
		if r.status != http.StatusCreated || r.header.Get(httpapi.ReplayedHeader) != "" {
			t.Fatalf("another user's key: status %d replayed %q; want a fresh 201", r.status, r.header.Get(httpapi.ReplayedHeader))
		}
	})

	t.Run("a 4xx answer is replayed too", func(t *testing.T) {
		first := post("bad-1", orderBody(pid, "0"))
		first.wantProblem(t, http.StatusUnprocessableEntity, "quantity_invalid")
		again := post("bad-1", orderBody(pid, "0"))
		again.wantProblem(t, http.StatusUnprocessableEntity, "quantity_invalid")
		if again.header.Get(httpapi.ReplayedHeader) != "true" {
			t.Error("the second 422 was not a replay")
		}
	})

	t.Run("a 5xx answer releases the key for a retry", func(t *testing.T) {
		h.providerDown.Store(true)
		post("flaky-1", orderBody(pid, "1")).wantProblem(t, http.StatusServiceUnavailable, "payment_provider_unavailable")
		h.providerDown.Store(false)
		r := post("flaky-1", orderBody(pid, "1"))
		if r.status != http.StatusCreated || r.header.Get(httpapi.ReplayedHeader) != "" {
			t.Fatalf("retry after 503: status %d replayed %q; want a fresh 201", r.status, r.header.Get(httpapi.ReplayedHeader))
		}
	})

	t.Run("a key still in progress is refused", func(t *testing.T) {
		body := orderBody(pid, "1")
		sum := sha256.Sum256([]byte(body))
		scope := "customer-1 POST /api/orders/with-payment"
		now := h.clock.Now()
		rec, err := h.store.Idempotency().Claim(context.Background(), app.IdempotencyRequest{Scope: scope, Key: "busy-1",
			RequestHash: hex.EncodeToString(sum[:]), Now: now, Lease: 3 * time.Second, ExpiresAt: now.Add(time.Hour)})
		if err != nil || !rec.Claimed {
			t.Fatalf("claim: %+v, %v", rec, err)
		}
		busy := post("busy-1", body)
		busy.wantProblem(t, http.StatusConflict, "idempotency_key_in_progress")
		if got := busy.header.Get("Retry-After"); got != "3" {
			t.Errorf("Retry-After = %q; want 3 (the rest of the lease)", got)
		}
	})

	t.Run("a key whose request died is taken over after the lease, then replayed", func(t *testing.T) {
		body := orderBody(pid, "1")
		sum := sha256.Sum256([]byte(body))
		now := h.clock.Now()
		if rec, err := h.store.Idempotency().Claim(context.Background(), app.IdempotencyRequest{Scope: "customer-1 POST /api/orders/with-payment",
			Key: "dead-1", RequestHash: hex.EncodeToString(sum[:]), Now: now, Lease: httpapi.DefaultIdempotencyLease,
			ExpiresAt: now.Add(time.Hour)}); err != nil || !rec.Claimed {
			t.Fatalf("claim: %+v, %v", rec, err)
		}
		post("dead-1", body).wantProblem(t, http.StatusConflict, "idempotency_key_in_progress")
		orders := h.orderCount()
		h.clock.advance(httpapi.DefaultIdempotencyLease + time.Second)
		first := post("dead-1", body)
		if first.status != http.StatusCreated || first.header.Get(httpapi.ReplayedHeader) != "" {
			t.Fatalf("retry after the lease: %d %s replayed %q; want a fresh 201", first.status, first.body, first.header.Get(httpapi.ReplayedHeader))
		}
		again := post("dead-1", body)
		if again.header.Get(httpapi.ReplayedHeader) != "true" || !bytes.Equal(again.body, first.body) {
			t.Fatalf("retry after the takeover: %d %s; want the replay of %s", again.status, again.body, first.body)
		}
		if n := h.orderCount(); n != orders+1 {
			t.Errorf("orders = %d; want %d (one for the key)", n, orders+1)
		}
	})

	t.Run("malformed keys are refused", func(t *testing.T) {
		post(strings.Repeat("k", 256), orderBody(pid, "1")).wantProblem(t, http.StatusBadRequest, "idempotency_key_invalid")
		post("with space", orderBody(pid, "1")).wantProblem(t, http.StatusBadRequest, "idempotency_key_invalid")
	})
}

// Every route with an Idempotency-Key keeps, with its change, exactly the bytes the client got.
func TestIdempotentAnswersAreTheBytesSent(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Keyboard", 12999, 10)
	customer, seller := token(t, "customer-1", app.RoleCustomer), token(t, "seller-1", app.RoleSeller)
	cash := h.post(customer, "/api/orders", orderBody(pid, "1"))
	var placed struct{ OrderID string }
	cash.decode(t, &placed)
	cases := []struct {
		user, tok, path, body string
		status                int
	}{
		{"seller-1", seller, "/api/products", `{"title":"Lamp","price":12.5,"currency":"USD","stock":3}`, http.StatusCreated},
		{"customer-1", customer, "/api/orders/with-payment", orderBody(pid, "2"), http.StatusCreated},
		{"customer-1", customer, "/api/orders/" + placed.OrderID + "/cancel", ``, http.StatusOK},
	}
	for _, c := range cases {
		r := h.post(c.tok, c.path, c.body, httpapi.IdempotencyKeyHeader, "kept-1")
		if r.status != c.status {
			t.Fatalf("POST %s: %d %s; want %d", c.path, r.status, r.body, c.status)
		}
		sum := sha256.Sum256([]byte(c.body))
		rec, err := h.store.Idempotency().Claim(context.Background(), app.IdempotencyRequest{Scope: c.user + " POST " + c.path,
			Key: "kept-1", RequestHash: hex.EncodeToString(sum[:]), Now: h.clock.Now(), Lease: time.Second,
			ExpiresAt: h.clock.Now().Add(time.Hour)})
		if err != nil || !rec.Done || rec.Answer.Status != c.status || !bytes.Equal(rec.Answer.Body, r.body) {
			t.Errorf("POST %s: kept %+v, %v; want status %d and the body sent %s", c.path, rec, err, c.status, r.body)
		}
	}
}
