package main

import (
	"context"
	"log/slog"

	"github.com/wolfix/orders/internal/adapters/metrics"
	"github.com/wolfix/orders/internal/adapters/telemetry"
)

// startTracing turns OpenTelemetry tracing on when the OTEL_* variables name an exporter (see
// the telemetry package); stop exports the spans still buffered. Call it before the adapters are
// built and stop after they are closed, so that the last spans are kept.
func startTracing(ctx context.Context, log *slog.Logger) (stop func(), err error) {
	t, err := telemetry.Start(ctx, telemetry.Config{ServiceName: "wolfix", ServiceVersion: metrics.ReadBuild(version).Version})
	if err != nil {
		return nil, err
	}
	if t.On() {
		log.Info("tracing on: spans are exported over OTLP/HTTP as the OTEL_* variables say")
	}
	return func() {
		if err := t.Shutdown(ctx); err != nil {
			log.Warn("the last spans could not be exported", "error", err)
		}
	}, nil
}
