package consumers

import (
	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names the consumers' spans' instrumentation scope.
const tracerName = "github.com/wolfix/orders/internal/adapters/consumers"

// traceHandling is the router middleware that runs each delivery of an event in a span joined to
// the trace its metadata carries (the request that wrote the event, through the outbox and the
// relay), so that what a consumer does, its SQL included, shows in that request's trace. One span
// covers the delivery with all its retries; it ends with the final error.
func traceHandling(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		ctx := otel.GetTextMapPropagator().Extract(msg.Context(), propagation.MapCarrier(msg.Metadata))
		topic := message.SubscribeTopicFromCtx(ctx)
		ctx, span := otel.Tracer(tracerName).Start(ctx, "process "+topic,
			trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(
				attribute.String("messaging.destination.name", topic),
				attribute.String("messaging.message.id", msg.UUID),
				attribute.String("messaging.consumer.group.name", message.HandlerNameFromCtx(ctx)),
			))
		defer span.End()
		msg.SetContext(ctx)
		produced, err := h(msg)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		return produced, err
	}
}
