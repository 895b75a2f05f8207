package outbox_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/testenv"
)

// The broker down for 2 s with events waiting: the relay backs off exponentially (with jitter)
// and the log hears of the outage once per back-off step, not once per message or per read; the
// steps grow; when the broker is back every event arrives.
func TestRelayBacksOffFromADownBrokerAndLogsOncePerStep(t *testing.T) {
	const outage, retryInterval = 2 * time.Second, 20 * time.Millisecond
	db := openSQLite(t)
	b, topics := openGoChannel(t)
	watch := observe(t, b, topics)
	pub := newProbe(b.Publisher())
	pub.failFor(outage)
	logs := &testenv.Buffer{}
	runRelayWith(t, db, outbox.DialectSQLite, pub, outbox.RelayConfig{PollInterval: 10 * time.Millisecond,
		RetryInterval: retryInterval}, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	orders := orderEvents("backoff", 10, 2)
	commitEach(t, db, opener(t, outbox.DialectSQLite), orders)
	watch.waitAll(t, ids(orders), arrivalTimeout)

	loud, steps := relayLog(t, logs.String())
	t.Logf("%v down: %d warnings and errors, steps %v", outage, loud, steps)
	// each read holds the refused batch for up to 250 ms (SQLite's ack deadline), then a step that
	// doubles from 20 ms (±50%): 2 s hold 4 to 7 of them
	if len(steps) < 3 || len(steps) > 10 || loud > len(steps)+2 {
		t.Fatalf("%d warnings and errors, %d of them back-off steps, in %v; want one per step (3 to 10)", loud, len(steps), outage)
	}
	if last := steps[len(steps)-1]; last < 4*retryInterval {
		t.Errorf("the last step waited %v; want at least 4 × %v after %d doublings", last, retryInterval, len(steps)-1)
	}
	for i := 2; i < len(steps); i++ {
		if steps[i] <= steps[i-2] {
			t.Errorf("step %d (%v) is not longer than step %d (%v): the back-off does not grow", i, steps[i], i-2, steps[i-2])
		}
	}
}

// relayLog counts the warnings and errors of a JSON log and returns the retry_in of its back-off steps.
func relayLog(t *testing.T, log string) (loud int, steps []time.Duration) {
	t.Helper()
	lines := bufio.NewScanner(strings.NewReader(log))
	for lines.Scan() {
		var line struct {
			Level   string        `json:"level"`
			RetryIn time.Duration `json:"retry_in"` // slog writes a duration as nanoseconds
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", lines.Text(), err)
		}
		if line.Level != "WARN" && line.Level != "ERROR" {
			continue
		}
		loud++
		if line.RetryIn > 0 {
			steps = append(steps, line.RetryIn)
		}
	}
	return loud, steps
}
