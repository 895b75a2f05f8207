package outage_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/outage"
	"github.com/wolfix/orders/internal/testenv"
)

func TestTrackerLogsOncePerStepAndGrows(t *testing.T) {
	logs := &testenv.Buffer{}
	tr := outage.New(outage.Config{First: 20 * time.Millisecond, Most: time.Second,
		Failing: "dependency fails", Recovered: "dependency works", Log: slog.New(slog.NewTextHandler(logs, nil))})
	errDown := errors.New("down")
	if tr.Resting() != 0 {
		t.Fatal("a new tracker rests")
	}
	first := tr.Failed(errDown)
	for range 100 { // callers failing within the step start nothing new
		if left := tr.Failed(errDown); left > first {
			t.Fatalf("a failure within the step returned %v; want at most the step's %v", left, first)
		}
	}
	if n := strings.Count(logs.String(), "dependency fails"); n != 1 {
		t.Fatalf("%d lines for one step; want 1", n)
	}
	var steps []time.Duration
	for range 5 {
		time.Sleep(tr.Resting())
		steps = append(steps, tr.Failed(errDown))
	}
	if steps[4] <= 8*first || steps[4] <= steps[2] { // the sixth step is 32 × 20 ms ± 50%
		t.Fatalf("steps %v after a first of %v; want them doubling (±50%%)", steps, first)
	}
	tr.Recovered()
	tr.Recovered()
	if n := strings.Count(logs.String(), "dependency works"); n != 1 {
		t.Fatalf("%d recovery lines; want 1", n)
	}
	time.Sleep(tr.Resting())
	if again := tr.Failed(errDown); again > 30*time.Millisecond {
		t.Fatalf("the first step after a recovery is %v; want the first step again (20 ms ± 50%%)", again)
	}
}
