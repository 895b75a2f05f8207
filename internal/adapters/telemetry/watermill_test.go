package telemetry_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"

	"github.com/wolfix/orders/internal/adapters/telemetry"
)

func TestWatermillLoggerDropsDisabledLevelsWithoutWork(t *testing.T) {
	var out bytes.Buffer
	wlog := telemetry.WatermillLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})))
	fields := watermill.LogFields{"message_uuid": "m-1", "topic": "orders.placed"}
	allocs := testing.AllocsPerRun(100, func() {
		wlog.Trace("sending message", fields)
		wlog.Debug("message acked", fields)
	})
	if allocs != 0 {
		t.Errorf("dropping a Trace and a Debug line took %.0f allocations; want 0", allocs)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %q below the logger's level", out.String())
	}
}

func TestWatermillLoggerWritesEnabledLevelsWithTheirFields(t *testing.T) {
	var out bytes.Buffer
	wlog := telemetry.WatermillLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: watermill.LevelTrace})))
	scoped := wlog.With(watermill.LogFields{"consumer": "notifications"})
	scoped.Trace("received", watermill.LogFields{"message_uuid": "m-1"})
	scoped.Debug("acked", watermill.LogFields{"message_uuid": "m-2"})
	scoped.Info("subscribed", nil)
	scoped.Error("handler failed", errors.New("boom"), nil)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{"msg=received", "msg=acked", "msg=subscribed", "msg=\"handler failed\""}
	if len(lines) != len(want) {
		t.Fatalf("wrote %d lines; want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, line := range lines {
		if !strings.Contains(line, want[i]) || !strings.Contains(line, "consumer=notifications") {
			t.Errorf("line %d = %q; want %s with consumer=notifications", i, line, want[i])
		}
	}
	if !strings.Contains(lines[0], "message_uuid=m-1") || !strings.Contains(lines[3], "error=boom") {
		t.Errorf("fields lost:\n%s", out.String())
	}
}
