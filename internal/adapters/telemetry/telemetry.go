// Package telemetry owns the service's OpenTelemetry tracing: setting up the process's tracer
// provider from the standard OTEL_* environment variables (spans exported over OTLP/HTTP, or
// nothing at all when no exporter is configured), carrying a trace from one process to another in
// a message's metadata (the outbox and the consumers use it), the trace and span ids on log
// lines, and watermill's log lines through slog (WatermillLogger).
//
// The instrumented adapters (gin through otelgin, bun through bunotel, outgoing HTTP through
// otelhttp, the outbox and the consumers) use OpenTelemetry's global tracer provider and
// propagator, which this package sets. Until it does, or when tracing is off, they are no-ops.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config describes the process being traced.
type Config struct {
	// ServiceName is service.name unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) says otherwise.
	ServiceName string
	// ServiceVersion is service.version.
	ServiceVersion string
	// Exporter, when set, receives the spans instead of the OTLP exporter and turns tracing on
	// whatever the environment says (tests pass the SDK's in-memory exporter).
	Exporter sdktrace.SpanExporter
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// Tracing is the process's tracer provider. The zero value, and what Start returns when tracing
// is off, does nothing.
type Tracing struct {
	provider *sdktrace.TracerProvider
}

// Start turns tracing on when the environment names an OTLP exporter (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_TRACES_EXPORTER=otlp) and neither
// OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none turns it off. The exporter, sampler
// (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG) and resource (OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES) read their own variables. It installs the W3C trace-context and
// baggage propagators and the tracer provider as OpenTelemetry's globals.
func Start(ctx context.Context, cfg Config) (*Tracing, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	exporter := cfg.Exporter
	if exporter == nil {
		if !Enabled(getenv) {
			return &Tracing{}, nil
		}
		var err error
		if exporter, err = otlptracehttp.New(ctx); err != nil {
			return nil, fmt.Errorf("telemetry: OTLP exporter: %w", err)
		}
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", cfg.ServiceName),
			attribute.String("service.version", cfg.ServiceVersion)),
		resource.WithTelemetrySDK(), resource.WithHost(), resource.WithProcessPID(),
		resource.WithFromEnv())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("telemetry: resource (OTEL_RESOURCE_ATTRIBUTES): %w", err)
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	active.Store(true)
	return &Tracing{provider: provider}, nil
}

// active tells whether a Tracing installed by Start is running.
var active atomic.Bool

// Active reports whether a tracer provider started by Start is installed as OpenTelemetry's
// global one. Adapters whose instrumentation costs something even as a no-op (a span per HTTP
// request) install it only then.
func Active() bool { return active.Load() }

// Enabled reports whether the environment read by getenv asks for spans to be exported.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))) {
	case "none":
		return false
	case "otlp":
		return true
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// On reports whether spans are being recorded and exported.
func (t *Tracing) On() bool { return t != nil && t.provider != nil }

// Flush exports the spans that ended so far.
func (t *Tracing) Flush(ctx context.Context) error {
	if !t.On() {
		return nil
	}
	return t.provider.ForceFlush(ctx)
}

// shutdownTimeout bounds the last export when the process stops.
const shutdownTimeout = 5 * time.Second

// Shutdown exports what is left (for up to 5 s) and puts the no-op tracer provider back.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.On() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := t.provider.Shutdown(ctx)
	otel.SetTracerProvider(noop.NewTracerProvider())
	active.Store(false)
	if err != nil {
		return fmt.Errorf("telemetry: shutdown: %w", err)
	}
	return nil
}
