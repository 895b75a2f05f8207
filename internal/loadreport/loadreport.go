// Package loadreport owns the figures a load run reports as JSON: what cmd/loadgen writes with
// -json and what cmd/benchcompare reads back, so the two tools share one contract; and how a
// distribution is taken from latencies, so both tools take it alike.
package loadreport

import (
	"slices"
	"time"
)

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

// DistributionOf takes the distribution of samples (in any order; they are not changed).
func DistributionOf(samples []time.Duration) Distribution {
	sorted := slices.Sorted(slices.Values(samples))
	msOf := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return Distribution{Count: len(sorted), P50: msOf(Quantile(sorted, 0.50)), P90: msOf(Quantile(sorted, 0.90)),
		P99: msOf(Quantile(sorted, 0.99)), Max: msOf(Quantile(sorted, 1))}
}

// Quantile is the q-quantile (nearest rank) of sorted samples; 0 when there are none.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted)) + 0.999999999) // ceil without float surprises at exact ranks
	return sorted[min(max(rank, 1), len(sorted))-1]
}
