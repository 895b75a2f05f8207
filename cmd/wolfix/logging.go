package main

import (
	"log/slog"

	"github.com/wolfix/orders/internal/adapters/httpapi"
)

// withRequestID makes every log line written while serving a request carry its request id.
func withRequestID(h slog.Handler) slog.Handler { return httpapi.LogHandler(h) }
