package sqlstore

import (
	"context"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/extra/bunotel"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/wolfix/orders/internal/adapters/telemetry"
)

// traceQueries makes db report each SQL statement as a span (bunotel) while tracing is on. Even
// as a no-op the hook costs ~13 µs per query, so with tracing off it is not installed.
func traceQueries(db *bun.DB) {
	if telemetry.Active() {
		db.AddQueryHook(parentedQueries{bunotel.NewQueryHook(bunotel.WithDBName("wolfix"))})
	}
}

// parentedQueries traces only the statements that run inside a trace (a request, a consumer's
// event): those of background passes outside any (the reconciler, the webhook worker, the pruner)
// would each make a trace of one span.
type parentedQueries struct{ *bunotel.QueryHook }

func (h parentedQueries) BeforeQuery(ctx context.Context, event *bun.QueryEvent) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	return h.QueryHook.BeforeQuery(ctx, event)
}

// tracerName names the spans sqlstore starts itself (bunotel names its own).
const tracerName = "github.com/wolfix/orders/internal/adapters/sqlstore"

// traceText starts the span of statements sent past bun's hooks as one text (execAll): named,
// like bunotel's spans, by the first statement's operation, with every statement's operation as
// an attribute — never the text, whose values are customers' data. Outside a trace, or with
// tracing off, it does nothing.
func traceText(ctx context.Context, db bun.IDB, statements []string) (end func(error)) {
	if !tracesText(ctx) || len(statements) == 0 {
		return func(error) {}
	}
	ops := make([]string, len(statements))
	for i, st := range statements {
		ops[i], _, _ = strings.Cut(strings.TrimSpace(st), " ")
	}
	_, span := otel.Tracer(tracerName).Start(ctx, ops[0], trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", dbSystem(db)), attribute.String("db.name", "wolfix"),
			attribute.StringSlice("db.operations", ops)))
	return func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// tracesText reports whether traceText records a span in ctx.
func tracesText(ctx context.Context) bool {
	return telemetry.Active() && trace.SpanContextFromContext(ctx).IsValid()
}

// dbSystem names db's database as OpenTelemetry (and bunotel) do.
func dbSystem(db bun.IDB) string {
	if db.Dialect().Name() == dialect.PG {
		return "postgresql"
	}
	return db.Dialect().Name().String()
}
