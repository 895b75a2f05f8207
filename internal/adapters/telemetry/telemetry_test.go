package telemetry_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wolfix/orders/internal/adapters/telemetry"
)

func env(vars map[string]string) func(string) string {
	return func(key string) string { return vars[key] }
}

func TestEnabledOnlyWhenAnExporterIsNamed(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want bool
	}{
		{"nothing set", nil, false},
		{"service name alone", map[string]string{"OTEL_SERVICE_NAME": "wolfix"}, false},
		{"sampler alone", map[string]string{"OTEL_TRACES_SAMPLER": "always_on"}, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{"exporter otlp, default endpoint", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{"exporter none wins", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false},
		{"sdk disabled wins", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := telemetry.Enabled(env(tt.vars)); got != tt.want {
				t.Errorf("Enabled(%v) = %v; want %v", tt.vars, got, tt.want)
			}
		})
	}
}

// Off, Start installs nothing: OpenTelemetry's global tracer stays the no-op one, whose spans
// record nothing and carry no ids.
func TestStartWithoutExporterLeavesTracingOff(t *testing.T) {
	tracing, err := telemetry.Start(context.Background(), telemetry.Config{ServiceName: "wolfix", Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if tracing.On() || telemetry.Active() {
		t.Fatal("tracing is on with no exporter configured")
	}
	_, span := otel.Tracer("test").Start(context.Background(), "work")
	defer span.End()
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Errorf("a span started with tracing off records (%v) or has ids (%v)", span.IsRecording(), span.SpanContext())
	}
	if err := tracing.Flush(context.Background()); err != nil {
		t.Errorf("Flush with tracing off: %v", err)
	}
	if err := tracing.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown with tracing off: %v", err)
	}
}

// On, spans are exported with the service's resource (OTEL_SERVICE_NAME overrides the default
// name), and log lines written inside a span carry its trace and span ids.
func TestStartExportsSpansAndLogsCarryTheirIDs(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "wolfix-eu")
	exporter := tracetest.NewInMemoryExporter()
	tracing, err := telemetry.Start(context.Background(), telemetry.Config{ServiceName: "wolfix", ServiceVersion: "v1.2.3", Exporter: exporter})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := tracing.Shutdown(context.Background()); err != nil || telemetry.Active() {
			t.Errorf("Shutdown: %v; still active: %v", err, telemetry.Active())
		}
	}()
	if !telemetry.Active() {
		t.Error("Start with an exporter did not make tracing active")
	}
	var out bytes.Buffer
	log := slog.New(telemetry.LogHandler(telemetry.LogHandler(slog.NewTextHandler(&out, nil))))

	ctx, span := otel.Tracer("test").Start(context.Background(), "work")
	log.InfoContext(ctx, "inside")
	span.End()
	log.InfoContext(context.Background(), "outside")
	if err := tracing.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	spans := exporter.GetSpans()
	if len(spans) != 1 || spans[0].Name != "work" {
		t.Fatalf("exported %v; want the one span", spans)
	}
	attrs := map[string]string{}
	for _, kv := range spans[0].Resource.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if attrs["service.name"] != "wolfix-eu" || attrs["service.version"] != "v1.2.3" {
		t.Errorf("resource service.name=%q service.version=%q; want wolfix-eu (from OTEL_SERVICE_NAME), v1.2.3",
			attrs["service.name"], attrs["service.version"])
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	sc := span.SpanContext()
	want := "trace_id=" + sc.TraceID().String() + " span_id=" + sc.SpanID().String()
	if len(lines) != 2 || !strings.Contains(lines[0], want) || strings.Count(lines[0], "trace_id=") != 1 {
		t.Errorf("line inside the span = %q; want %q once", lines[0], want)
	}
	if strings.Contains(lines[1], "trace_id") {
		t.Errorf("line outside any span = %q; want no trace_id", lines[1])
	}
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		t.Errorf("the default sampler did not sample a root span")
	}
}
