package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/loadreport"
)

// mode is a workload.
type mode string

const (
	// modeCash places cash-on-delivery orders: POST /api/orders.
	modeCash mode = "cash"
	// modeCard runs the seed's card flow: create with payment, confirm in the sandbox with a test
	// card, read the order (long poll, or a poll with -wait 0) until the webhook made it Paid, then
	// PATCH /paid as the client would.
	modeCard mode = "card-flow"
	// modeRead reads: the product list, the customer's orders and one order.
	modeRead mode = "read"
)

func parseMode(s string) (mode, error) {
	switch m := mode(s); m {
	case modeCash, modeCard, modeRead:
		return m, nil
	}
	return "", fmt.Errorf("-mode %q: want cash, card-flow or read", s)
}

// Endpoint names in the report.
const (
	epCreateCash = "POST /api/orders"
	epCreateCard = "POST /api/orders/with-payment"
	epConfirm    = "POST /sandbox/payment-intents/{id}/confirm"
	epGetOrder   = "GET /api/orders/{id}"
	epAwaitOrder = "GET /api/orders/{id}?wait (long poll)"
	epPaid       = "PATCH /api/orders/{id}/paid"
	epListOrders = "GET /api/orders"
	epProducts   = "GET /api/products"
	spanPaid     = loadreport.SpanConfirmToPaid
	spanPaidSeen = loadreport.SpanConfirmToPaidSeen
	flow         = "flow"
)

// workload is a prepared run: identities, the products to order, and the flow each customer loops.
type workload struct {
	cfg        config
	client     *client
	productIDs []string
	customers  []customer
	// claimed counts orders started, so that -orders stops every customer at the bound.
	claimed atomic.Int64
}

// customer is one simulated shopper.
type customer struct {
	token   string
	orderID string // read mode: an order of theirs to read
}

// prepare mints tokens, makes sure there is a product that will not run out, and (read mode)
// places one order per customer to read back. None of it is measured.
func prepare(ctx context.Context, cfg config, cl *client, tokens *tokenSource) (*workload, error) {
	if _, err := cl.do(ctx, newRecorder(), call{endpoint: "setup", method: http.MethodGet, path: "/healthz"}); err != nil {
		return nil, fmt.Errorf("is wolfix running at %s? %w", cfg.base, err)
	}
	w := &workload{cfg: cfg, client: cl}
	if cfg.product != "" {
		w.productIDs = []string{cfg.product}
	}
	for len(w.productIDs) < cfg.products {
		id, err := createProduct(ctx, cl, tokens)
		if err != nil {
			return nil, err
		}
		w.productIDs = append(w.productIDs, id)
	}
	for i := range cfg.customers {
		tok, err := tokens.mint(ctx, fmt.Sprintf("loadgen-customer-%d", i+1), app.RoleCustomer)
		if err != nil {
			return nil, err
		}
		c := customer{token: tok}
		if cfg.mode == modeRead {
			created, err := w.create(ctx, newRecorder(), c, epCreateCash, "/api/orders")
			if err != nil {
				return nil, fmt.Errorf("setup order: %w", err)
			}
			c.orderID = created.OrderID
		}
		w.customers = append(w.customers, c)
	}
	return w, nil
}

// createProduct adds a product with the largest stock the catalog allows, as a seller, so that
// stock never ends a run.
func createProduct(ctx context.Context, cl *client, tokens *tokenSource) (string, error) {
	tok, err := tokens.mint(ctx, "loadgen-seller", app.RoleSeller)
	if err != nil {
		return "", err
	}
	rep, err := cl.do(ctx, newRecorder(), call{endpoint: "setup", method: http.MethodGet, path: "/api/config"})
	if err != nil {
		return "", err
	}
	var pub struct {
		Currency string `json:"currency"`
	}
	if err := json.Unmarshal(rep.body, &pub); err != nil || pub.Currency == "" {
		pub.Currency = "USD"
	}
	rep, err = cl.do(ctx, newRecorder(), call{endpoint: "setup", method: http.MethodPost, path: "/api/products", token: tok,
		body: map[string]any{"title": "Loadgen widget", "price": json.Number("19"), "currency": pub.Currency, "stock": 1_000_000_000}})
	if err != nil {
		return "", err
	}
	var p struct {
		ID string `json:"id"`
	}
	if rep.status != http.StatusCreated || json.Unmarshal(rep.body, &p) != nil || p.ID == "" {
		return "", fmt.Errorf("create the load product: status %d: %s", rep.status, rep.body)
	}
	return p.ID, nil
}

// run starts every customer and waits until the duration is over, the order bound is reached,
// or ctx ends; requests in flight when the run ends are not counted.
func (w *workload) run(ctx context.Context) result {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.duration)
	defer cancel()
	total := newRecorder()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range w.customers {
		wg.Go(func() {
			rec := newRecorder()
			w.loop(ctx, rec, c)
			mu.Lock()
			total.merge(rec)
			mu.Unlock()
		})
	}
	wg.Wait()
	return result{recorder: total, elapsed: time.Since(start)}
}

// loop runs the customer's flow until the run ends.
func (w *workload) loop(ctx context.Context, rec *recorder, c customer) {
	for ctx.Err() == nil {
		if w.cfg.orders > 0 && w.claimed.Add(1) > w.cfg.orders {
			return
		}
		var err error
		switch w.cfg.mode {
		case modeCash:
			_, err = w.create(ctx, rec, c, epCreateCash, "/api/orders")
			if err == nil {
				rec.orders++
			}
		case modeCard:
			err = w.cardFlow(ctx, rec, c)
		case modeRead:
			err = w.read(ctx, rec, c)
		}
		if err != nil && ctx.Err() == nil {
			// A failed request is already counted; pause a little so that a service that fails
			// fast does not turn the run into a tight loop of errors.
			sleep(ctx, 10*time.Millisecond)
		}
	}
}

// placed is the answer to both order POSTs, with the new order's ETag.
type placed struct {
	OrderID      string `json:"orderId"`
	ClientSecret string `json:"clientSecret"`
	etag         string
}

var errStatus = errors.New("unexpected status")

func (w *workload) create(ctx context.Context, rec *recorder, c customer, endpoint, path string) (placed, error) {
	rep, err := w.client.do(ctx, rec, call{endpoint: endpoint, method: http.MethodPost, path: path, token: c.token,
		body: orderBody(w.pickProducts())})
	if err != nil {
		return placed{}, err
	}
	var p placed
	if rep.status != http.StatusCreated {
		return placed{}, errStatus
	}
	if err := json.Unmarshal(rep.body, &p); err != nil || p.OrderID == "" {
		rec.fail(flow, "order response without orderId")
		return placed{}, errStatus
	}
	p.etag = rep.etag
	return p, nil
}

// cardFlow is the seed's card checkout, measured step by step, with the time from the sandbox's
// confirmation to the order showing Paid (the signed webhook's trip through the service).
func (w *workload) cardFlow(ctx context.Context, rec *recorder, c customer) error {
	p, err := w.create(ctx, rec, c, epCreateCard, "/api/orders/with-payment")
	if err != nil {
		return err
	}
	intentID, _, ok := strings.Cut(p.ClientSecret, "_secret_")
	if !ok {
		rec.fail(flow, "card order without a client secret")
		return errStatus
	}
	confirmed := time.Now()
	rep, err := w.client.do(ctx, rec, call{endpoint: epConfirm, method: http.MethodPost,
		path: "/sandbox/payment-intents/" + intentID + "/confirm",
		body: map[string]string{"clientSecret": p.ClientSecret, "cardNumber": w.cfg.card}})
	if err != nil {
		return err
	}
	if rep.status != http.StatusOK {
		return errStatus
	}
	if err := w.awaitPaid(ctx, rec, c, p.OrderID, p.etag, confirmed); err != nil {
		return err
	}
	rep, err = w.client.do(ctx, rec, call{endpoint: epPaid, method: http.MethodPatch,
		path: "/api/orders/" + p.OrderID + "/paid", token: c.token})
	if err != nil {
		return err
	}
	if rep.status != http.StatusNoContent {
		return errStatus
	}
	rec.orders++
	return nil
}

// awaitPaid reads the order until its payment is Paid: with -wait, each read is a long poll
// (If-None-Match and ?wait) that the service answers the moment the order changes, from etag (the
// one the order's creation answered; when empty, a first GET learns it); with -wait 0, a GET every
// -poll. Giving up after -paid-within is recorded but not fatal: PATCH /paid asks the provider
// itself, as a client would after a lost webhook.
func (w *workload) awaitPaid(ctx context.Context, rec *recorder, c customer, orderID, etag string, since time.Time) error {
	deadline := since.Add(w.cfg.paidWithin)
	for {
		rep, err := w.client.do(ctx, rec, w.orderRead(c, orderID, etag, deadline))
		if err != nil {
			return err
		}
		var o paidView
		if rep.status == http.StatusOK && json.Unmarshal(rep.body, &o) == nil && o.PaymentStatus == "Paid" {
			rec.span(spanPaidSeen, time.Since(since))
			if at, ok := o.paidAt(); ok {
				rec.span(spanPaid, at.Sub(since))
			}
			return nil
		}
		if time.Now().After(deadline) {
			rec.fail(flow, fmt.Sprintf("not Paid %s after confirm", w.cfg.paidWithin))
			return nil
		}
		longPolled := w.cfg.wait > 0 && rep.etag != "" &&
			(rep.status == http.StatusOK || rep.status == http.StatusNotModified)
		if longPolled {
			etag = rep.etag
		} else if !sleep(ctx, w.cfg.poll) { // polling, or a failed read: never a tight loop
			return ctx.Err()
		}
	}
}

// orderRead is awaitPaid's next GET of the order: a long poll once the ETag is known (-wait, cut
// to the time left before deadline, in whole seconds), a plain GET otherwise. Long polls are
// reported apart: their latency is mostly the wait.
func (w *workload) orderRead(c customer, orderID, etag string, deadline time.Time) call {
	read := call{endpoint: epGetOrder, method: http.MethodGet, path: "/api/orders/" + orderID, token: c.token}
	if w.cfg.wait == 0 || etag == "" {
		return read
	}
	wait := min(w.cfg.wait, max(time.Until(deadline).Round(time.Second), time.Second))
	read.endpoint, read.ifNoneMatch = epAwaitOrder, etag
	read.path += "?wait=" + strconv.Itoa(int(wait/time.Second))
	return read
}

// paidView is what awaitPaid reads of an order: its payment status and when it became Paid.
type paidView struct {
	PaymentStatus string `json:"paymentStatus"`
	Timeline      []struct {
		At   time.Time `json:"at"`
		Type string    `json:"type"`
	} `json:"timeline"`
}

// paidAt is when the service recorded the payment (the timeline's payment.succeeded, stamped in
// the transaction that made the order Paid, on this machine's clock): confirm → Paid measured to
// it does not count the poll's interval or the GET that saw it.
func (o paidView) paidAt() (time.Time, bool) {
	for _, ch := range o.Timeline {
		if ch.Type == "payment.succeeded" {
			return ch.At, true
		}
	}
	return time.Time{}, false
}

// read is one round of the read workload: the catalog, the customer's orders, one order.
func (w *workload) read(ctx context.Context, rec *recorder, c customer) error {
	for _, r := range []call{
		{endpoint: epProducts, method: http.MethodGet, path: "/api/products"},
		{endpoint: epListOrders, method: http.MethodGet, path: "/api/orders?limit=20", token: c.token},
		{endpoint: epGetOrder, method: http.MethodGet, path: "/api/orders/" + c.orderID, token: c.token},
	} {
		rep, err := w.client.do(ctx, rec, r)
		if err != nil {
			return err
		}
		if rep.status != http.StatusOK {
			return errStatus
		}
	}
	return nil
}

// pickProducts chooses -lines different products at random for one order.
func (w *workload) pickProducts() []string {
	if len(w.productIDs) == w.cfg.lines {
		return w.productIDs
	}
	picked := make([]string, 0, w.cfg.lines)
	for _, i := range rand.Perm(len(w.productIDs))[:w.cfg.lines] {
		picked = append(picked, w.productIDs[i])
	}
	return picked
}

// orderBody is a checkout of one unit of each product, delivered by courier.
func orderBody(productIDs []string) map[string]any {
	items := make([]map[string]any, 0, len(productIDs))
	for _, id := range productIDs {
		items = append(items, map[string]any{"productId": id, "quantity": 1})
	}
	return map[string]any{
		"items": items,
		"recipient": map[string]any{"firstName": "Olena", "lastName": "Koval", "middleName": nil,
			"phoneNumber": "+380501234567", "email": "olena@example.com"},
		"delivery": map[string]any{"method": "courier", "city": "Kyiv", "street": "Khreshchatyk",
			"houseNumber": "22", "branchNumber": nil},
	}
}

// sleep waits d or until ctx ends; it reports whether the whole d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
