package main

import (
	"log/slog"

	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/adapters/telemetry"
)

// withRequestContext makes every log line written while serving a request carry its request id,
// and every line written inside a traced span its trace_id and span_id.
func withRequestContext(h slog.Handler) slog.Handler {
	return httpapi.LogHandler(telemetry.LogHandler(h))
}
