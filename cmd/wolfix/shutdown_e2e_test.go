package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopBound is how soon after SIGTERM every wolfix process must have exited: orchestrators
// SIGKILL a process that outlives its grace period (docs/deploy.md gives 10 s; we promise 5).
const stopBound = 5 * time.Second

// gracePeriod is how long docs/deploy.md tells an orchestrator to wait before SIGKILL.
const gracePeriod = 10 * time.Second

// TestE2EShutdownUnderLoad stops each role with SIGTERM while it works, and expects it gone
// within stopBound with status 0, every request it had accepted answered (none cut off), no 5xx,
// and, for the relay, no error on the way out. The figures are printed.
func TestE2EShutdownUnderLoad(t *testing.T) {
	cases := []struct {
		name       string
		postgres   bool
		serveRelay bool   // serve runs its relay in-process
		stop       string // the role stopped: serve or relay
	}{
		{"serve with relay, embedded SQLite", false, true, "serve"},
		{"serve with relay, Postgres+NATS", true, true, "serve"},
		{"serve without relay, Postgres+NATS", true, false, "serve"},
		{"relay alone, Postgres+NATS", true, false, "relay"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp := newTopology(t, c.postgres, fmt.Sprintf("WOLFIX_RUN_RELAY=%t", c.serveRelay))
			api := tp.serve("serve")
			victim := api
			if c.stop == "relay" {
				db := openOutboxDB(t, tp.lookup("WOLFIX_DATABASE_URL"))
				commitEvents(t, db, killEvents("stop-"+randomHex(4), 4000, 5), 500) // a backlog mid-relay at SIGTERM
				victim = tp.relay("relay")
			}
			// One connection per request: on a kept-alive connection, a request the client sends
			// just as the server closes it while idle (graceful shutdown does) fails without ever
			// having been accepted — HTTP/1.1's own race, which a client settles by retrying with
			// its Idempotency-Key. Without it, every request that failed was accepted or refused.
			client := api.client()
			client.client.Transport = &http.Transport{DisableKeepAlives: true}
			load := newOrderLoad(t, client, 6)
			ctx, stopLoad := context.WithCancel(context.Background())
			wait := untilCancelled(ctx, load.workers, load.step)
			time.Sleep(1500 * time.Millisecond)
			before := load.outcomes.get("201")
			took, err := victim.sigterm(4 * stopBound)
			stopLoad()
			wait()
			if err != nil {
				t.Error(err)
			}
			// The promise is stopBound; the test fails past the grace period an orchestrator gives
			// (docs/deploy.md), since a saturated CI machine can stretch a 1–2 s stop past 5 s.
			if took > gracePeriod {
				t.Errorf("%s took %s to stop after SIGTERM; want under %s (promised: %s)", c.stop, took.Round(time.Millisecond), gracePeriod, stopBound)
			}
			if cut := load.outcomes.withPrefix("cut off"); len(cut) > 0 && c.stop == "serve" {
				t.Errorf("requests cut off mid-flight (an accepted request must be answered): %v", cut)
			}
			if n := load.outcomes.get("5xx"); n > 0 {
				t.Errorf("%d answers were 5xx", n)
			}
			if c.stop == "relay" {
				for _, line := range strings.Split(victim.logs.String(), "\n") {
					if strings.Contains(line, "level=ERROR") {
						t.Errorf("the relay logged an error: %s", line)
					}
				}
			}
			if before == 0 {
				t.Errorf("no order was created before SIGTERM; the test proves nothing (%s)", load.outcomes.String())
			}
			fmt.Printf("SIGTERM %-36s exited in %6s (status 0: %t); load on serve: %s\n",
				c.name+":", took.Round(time.Millisecond), err == nil, load.outcomes.String())
		})
	}
}

// orderLoad places orders through one replica from several workers: cash orders, and card
// orders paid at once with the sandbox's good card, every POST with an Idempotency-Key.
type orderLoad struct {
	s        *service
	workers  int
	product  string
	tokens   []string
	outcomes counter
}

func newOrderLoad(t *testing.T, s *service, workers int) *orderLoad {
	t.Helper()
	l := &orderLoad{s: s, workers: workers, product: s.newProduct(1250, 1_000_000).id}
	for w := range workers {
		l.tokens = append(l.tokens, s.token(fmt.Sprintf("load-%d", w), "customer"))
	}
	return l
}

// step places one order (every other one by card, then paid) and counts how it ended.
func (l *orderLoad) step(worker int) {
	path := "/api/orders"
	card := time.Now().UnixNano()%2 == 0
	if card {
		path = "/api/orders/with-payment"
	}
	status, body, err := l.post(worker, path, orderJSON(l.product), "Idempotency-Key", "load-"+randomHex(8))
	if l.count(status, body, err) && card && status == http.StatusCreated {
		if secret := jsonField(body, "clientSecret"); secret != "" {
			intent, _, _ := strings.Cut(secret, "_secret_")
			l.count(l.post(worker, "/sandbox/payment-intents/"+intent+"/confirm",
				fmt.Sprintf(`{"clientSecret":%q,"cardNumber":"4242424242424242"}`, secret)))
		}
	}
}

func (l *orderLoad) post(worker int, path, body string, headers ...string) (int, []byte, error) {
	status, _, raw, err := l.s.roundTrip(http.MethodPost, path, l.tokens[worker], strings.NewReader(body), headers...)
	return status, raw, err
}

// count records how a request ended and reports whether an answer came back.
func (l *orderLoad) count(status int, _ []byte, err error) bool {
	switch classify(err) {
	case refused:
		l.outcomes.add("refused")
		time.Sleep(20 * time.Millisecond)
		return false
	case cutOff:
		if droppedBeforeAccept(err) {
			l.outcomes.add("dropped in the accept backlog")
		} else {
			l.outcomes.add("cut off: " + err.Error())
		}
		time.Sleep(20 * time.Millisecond)
		return false
	}
	switch {
	case status >= 500:
		l.outcomes.add("5xx")
	default:
		l.outcomes.add(fmt.Sprint(status))
	}
	return true
}

// droppedBeforeAccept reports a fresh connection (no keep-alive) that ended before any byte of an
// answer, closed (EOF) or reset (ECONNRESET, or EPIPE while the request was still being written):
// the kernel had completed the handshake and queued it, but the listener closed before the server
// accepted it — closing a listening socket resets the connections still in its accept queue — and
// http.Server.Shutdown never abandons a request it has accepted. Like a refused one, the client
// retries it with its Idempotency-Key. A timeout or anything else is a request cut off.
func droppedBeforeAccept(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// orderJSON is an order of one unit of productID, as orderBody, already encoded.
func orderJSON(productID string) string {
	return `{"items":[{"productId":"` + productID + `","quantity":1}],` +
		`"recipient":{"firstName":"Olena","lastName":"Koval","phoneNumber":"+380501234567","email":"olena@example.com"},` +
		`"delivery":{"method":"courier","city":"Kyiv","street":"Khreshchatyk","houseNumber":"22"}}`
}

// jsonField reads a top-level string field of a JSON object ("" when it is not one).
func jsonField(body []byte, name string) string {
	var fields map[string]any
	_ = json.Unmarshal(body, &fields)
	v, _ := fields[name].(string)
	return v
}
