// Package loadreport owns the figures a load run reports as JSON: what cmd/loadgen writes with
// -json and what cmd/benchcompare reads back, so the two tools share one contract.
package loadreport

// Summary is one run's figures.
type Summary struct {
	ElapsedSeconds float64                 `json:"elapsedSeconds"`
	Requests       int                     `json:"requests"`
	Orders         int64                   `json:"orders"`
	OrdersPerSec   float64                 `json:"ordersPerSecond"`
	Failures       int                     `json:"failures"`
	Latency        map[string]Distribution `json:"latencyMs"` // by endpoint
	Spans          map[string]Distribution `json:"spansMs"`   // by named multi-request interval
}

// The card flow's spans: from the sandbox confirmation to the service committing the order Paid
// (the webhook's trip through the service, stamped by the service), and to a client polling the
// order seeing it (which adds up to one poll interval and the GET that saw it).
const (
	SpanConfirmToPaid     = "card: confirm → Paid (webhook, committed)"
	SpanConfirmToPaidSeen = "card: confirm → Paid seen by polling"
)

// Distribution is one endpoint's or span's latencies in milliseconds.
type Distribution struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}
