package events_test

import (
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app/events"
)

// orderCreated is an orders.created event as a cash checkout of two lines publishes it.
func orderCreated() events.Event {
	return events.Event{ID: "0193a0f4-6a3e-7c1d-9b2a-5d4e3f2a1b0c", Type: events.TopicOrderCreated,
		OccurredAt: time.Date(2026, 12, 3, 12, 0, 0, 123456789, time.UTC), OrderID: "0193a0f4-6a3d-7000-8000-1234567890ab",
		Data: events.OrderData{Number: "WX-20261203-4F7K2Q", CustomerID: "customer-0017", Status: "Confirmed",
			PaymentStatus: "Pending", PaymentMethod: events.PaymentMethodCash, TotalMinor: 4700, Currency: "USD",
			To: "Confirmed", Cause: "customer customer-0017", Items: []events.ItemRef{
				{ProductID: "product-0412", SellerID: "seller-3", Quantity: 1, UnitPriceMinor: 1412},
				{ProductID: "product-0877", SellerID: "seller-1", Quantity: 2, UnitPriceMinor: 1294}}}}
}

// BenchmarkEncodeOrderEvent is the outbox's share of a checkout: one event to its envelope.
func BenchmarkEncodeOrderEvent(b *testing.B) {
	ev := orderCreated()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeOrderEvent is a consumer's share of an event: the envelope, then its order data.
func BenchmarkDecodeOrderEvent(b *testing.B) {
	benchmarkDecode(b, func(env events.Envelope) error {
		_, err := env.OrderData()
		return err
	})
}

// BenchmarkDecodeOrderSummary is the notifications consumer's share of an event: the envelope,
// then whose order it is and how it is paid.
func BenchmarkDecodeOrderSummary(b *testing.B) {
	benchmarkDecode(b, func(env events.Envelope) error {
		_, err := env.OrderSummary()
		return err
	})
}

// benchmarkDecode decodes an orderCreated envelope, then reads its data with read.
func benchmarkDecode(b *testing.B, read func(events.Envelope) error) {
	payload, err := events.Encode(orderCreated())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		env, err := events.Decode(payload)
		if err != nil {
			b.Fatal(err)
		}
		if err := read(env); err != nil {
			b.Fatal(err)
		}
	}
}
