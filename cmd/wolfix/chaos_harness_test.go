package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/app"
)

// The chaos harness (the processes themselves are procs_test.go's): shoppers who place orders
// with an Idempotency-Key each and retry every request whose outcome they could not see with that
// same key, as a careful client would; and an audit that reads the database and the broker
// afterwards (chaos_audit_test.go).

// chaosLoad is the shoppers' side: who ordered what under which key, and every answer seen.
type chaosLoad struct {
	svc      *service // the e2e helpers' client (answers checked against openapi.yaml)
	secret   string
	products []string

	mu           sync.Mutex
	acks         map[string]chaosAck // Idempotency-Key → the order it created
	statuses     map[string]int      // "201", "503", "transport", … → how often
	noRetryAfter int                 // 503s without a Retry-After header
}

// chaosAck is one acknowledged checkout: its key, the request, and the order it created.
type chaosAck struct {
	path, token string
	body        []byte
	orderID     string
	secret      string    // card orders: the client secret
	at          time.Time // when the 201 arrived
}

func newChaosLoad(svc *service, secret string, products []string) *chaosLoad {
	return &chaosLoad{svc: svc, secret: secret, products: products, acks: map[string]chaosAck{}, statuses: map[string]int{}}
}

// run starts n shoppers that order until ctx ends, then settle what they started within settle.
func (l *chaosLoad) run(t *testing.T, ctx context.Context, shoppers int, settle time.Duration) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range shoppers {
		wg.Go(func() { l.shop(t, ctx, i, settle) })
	}
	wg.Wait()
}

// shop is one customer's loop: cash and card orders in turn, each card order confirmed in the
// sandbox (every fourth with a card that is declined).
func (l *chaosLoad) shop(t *testing.T, ctx context.Context, shopper int, settle time.Duration) {
	customer := fmt.Sprintf("chaos-customer-%02d", shopper)
	token, err := auth.Mint(l.secret, customer, []app.Role{app.RoleCustomer}, time.Hour)
	if err != nil {
		t.Error(err)
		return
	}
	for n := 0; ctx.Err() == nil; n++ {
		// Each checkout gets its own deadline: a request started before the end is seen through.
		settleCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settle)
		key := fmt.Sprintf("%s-%04d", customer, n)
		path := "/api/orders"
		if n%2 == 1 {
			path = "/api/orders/with-payment"
		}
		body, _ := json.Marshal(orderBody(l.products[(shopper+n)%len(l.products)], 1+n%3))
		ack, ok := l.place(settleCtx, key, path, token, body)
		if ok && ack.secret != "" {
			card := cardOK
			if n%8 == 3 {
				card = "4000 0000 0000 0002"
			}
			l.confirm(settleCtx, ack.secret, card)
		}
		cancel()
	}
}

// place sends the checkout until it gets an answer it can act on: 201, or a 4xx that is not
// "try again". Lost connections, 5xx, 409 idempotency_key_in_progress and 429 are retried with
// the same key, honouring Retry-After.
func (l *chaosLoad) place(ctx context.Context, key, path, token string, body []byte) (chaosAck, bool) {
	for ctx.Err() == nil {
		status, header, raw := l.send(http.MethodPost, path, token, body, "Idempotency-Key", key)
		switch {
		case status == http.StatusCreated:
			var created struct{ OrderID, ClientSecret string }
			if json.Unmarshal(raw, &created) != nil || created.OrderID == "" {
				l.count("201 without orderId")
				return chaosAck{}, false
			}
			ack := chaosAck{path: path, token: token, body: body, orderID: created.OrderID,
				secret: created.ClientSecret, at: time.Now()}
			l.mu.Lock()
			l.acks[key] = ack
			l.mu.Unlock()
			return ack, true
		case retryable(status, raw):
			pause(ctx, header)
		default:
			return chaosAck{}, false
		}
	}
	l.count("gave up (settle time over)")
	return chaosAck{}, false
}

// ackedSince returns the keys acknowledged after since.
func (l *chaosLoad) ackedSince(since time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keys []string
	for key, ack := range l.acks {
		if ack.at.After(since) {
			keys = append(keys, key)
		}
	}
	return keys
}

// confirm plays Stripe.js: the card goes to the sandbox; retried while the service is down.
func (l *chaosLoad) confirm(ctx context.Context, clientSecret, card string) {
	intent, _, _ := bytes.Cut([]byte(clientSecret), []byte("_secret_"))
	body, _ := json.Marshal(map[string]string{"clientSecret": clientSecret, "cardNumber": card})
	for ctx.Err() == nil {
		status, header, raw := l.send(http.MethodPost, "/sandbox/payment-intents/"+string(intent)+"/confirm", "", body)
		if !retryable(status, raw) {
			return
		}
		pause(ctx, header)
	}
}

// send performs one request and counts its outcome; status 0 means no answer was seen.
func (l *chaosLoad) send(method, path, token string, body []byte, headers ...string) (int, http.Header, []byte) {
	status, header, raw, err := l.svc.roundTrip(method, path, token, bytes.NewReader(body), headers...)
	if err != nil {
		l.count("transport error")
		return 0, nil, nil
	}
	l.count(strconv.Itoa(status))
	if status == http.StatusServiceUnavailable && header.Get("Retry-After") == "" {
		l.mu.Lock()
		l.noRetryAfter++
		l.mu.Unlock()
	}
	return status, header, raw
}

func (l *chaosLoad) count(outcome string) {
	l.mu.Lock()
	l.statuses[outcome]++
	l.mu.Unlock()
}

// snapshot copies the outcome counts.
func (l *chaosLoad) snapshot() (statuses map[string]int, noRetryAfter int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	statuses = make(map[string]int, len(l.statuses))
	for k, v := range l.statuses {
		statuses[k] = v
	}
	return statuses, l.noRetryAfter
}

// retryable reports whether a client should send the same request again with the same key.
func retryable(status int, raw []byte) bool {
	switch {
	case status == 0, status >= 500, status == http.StatusTooManyRequests:
		return true
	case status == http.StatusConflict:
		var p struct{ Code string }
		return json.Unmarshal(raw, &p) == nil && p.Code == "idempotency_key_in_progress"
	}
	return false
}

// pause waits as Retry-After says (at most 1 s), or 100 ms when there is none.
func pause(ctx context.Context, header http.Header) {
	wait := 100 * time.Millisecond
	if s, err := strconv.Atoi(header.Get("Retry-After")); err == nil && s > 0 {
		wait = min(time.Duration(s)*time.Second, time.Second)
	}
	select {
	case <-ctx.Done():
	case <-time.After(wait):
	}
}
