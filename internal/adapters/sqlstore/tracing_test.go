package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/adapters/telemetry"
)

// With tracing on, a statement run inside a trace is a child span that names the statement
// without its values; one run outside any trace (a background pass) makes no span.
func TestQueriesAreTracedInsideATraceOnlyAndWithoutTheirValues(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tracing, err := telemetry.Start(context.Background(), telemetry.Config{ServiceName: "wolfix", Exporter: exporter})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tracing.Shutdown(context.Background()) }()
	db, _, err := sqlstore.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var got string
	if err := db.NewSelect().ColumnExpr("?", "outside@example.com").Scan(context.Background(), &got); err != nil {
		t.Fatal(err)
	}
	ctx, parent := otel.Tracer("test").Start(context.Background(), "request")
	if err := db.NewSelect().ColumnExpr("?", "olena@example.com").Scan(ctx, &got); err != nil {
		t.Fatal(err)
	}
	parent.End()
	if err := tracing.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	spans := exporter.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("got %d spans; want the request and its one SELECT", len(spans))
	}
	query := spans[0]
	if query.Name != "SELECT" || query.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("span %q with parent %s; want SELECT under the request %s", query.Name, query.Parent.SpanID(), parent.SpanContext().SpanID())
	}
	for _, kv := range query.Attributes {
		if strings.Contains(kv.Value.Emit(), "@example.com") {
			t.Errorf("attribute %s = %q carries a query argument", kv.Key, kv.Value.Emit())
		}
	}
}
