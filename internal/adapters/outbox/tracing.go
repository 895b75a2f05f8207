package outbox

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The trace of the request that wrote an event travels with it in the message metadata (W3C
// traceparent/tracestate, through OpenTelemetry's global propagator): the outbox row keeps it, the
// relay continues it, and the consumers join it (consumers.Router). With tracing off the
// propagator writes nothing and the spans are no-ops.

// tracerName names the outbox's spans' instrumentation scope.
const tracerName = "github.com/wolfix/orders/internal/adapters/outbox"

// traceWrite starts the span of writing msg, an event of type topic, into the outbox, and carries
// it in msg's metadata. end closes the span with the write's error.
func traceWrite(ctx context.Context, topic string, msg *message.Message) (end func(error)) {
	ctx, span := otel.Tracer(tracerName).Start(ctx, "outbox write "+topic,
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(messageAttributes(topic, msg)...))
	otel.GetTextMapPropagator().Inject(ctx, propagation.MapCarrier(msg.Metadata))
	return func(err error) { endSpan(span, err) }
}

// traceRelay starts, for each message, the span of the relay publishing it to the broker, as a
// child of the span that wrote it, and hands that span on in the message's metadata. end closes
// them with the publication's error.
func traceRelay(topic string, msgs []*message.Message) (end func(error)) {
	propagator := otel.GetTextMapPropagator()
	spans := make([]trace.Span, 0, len(msgs))
	for _, msg := range msgs {
		carrier := propagation.MapCarrier(msg.Metadata)
		parent := propagator.Extract(context.Background(), carrier)
		if !trace.SpanContextFromContext(parent).IsValid() {
			continue // written untraced, or tracing is off
		}
		ctx, span := otel.Tracer(tracerName).Start(parent, "outbox relay "+topic,
			trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(messageAttributes(topic, msg)...))
		propagator.Inject(ctx, carrier)
		spans = append(spans, span)
	}
	return func(err error) {
		for _, span := range spans {
			endSpan(span, err)
		}
	}
}

func messageAttributes(topic string, msg *message.Message) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("messaging.destination.name", topic),
		attribute.String("messaging.message.id", msg.UUID),
	}
}

func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
