// Package metrics owns the service's Prometheus series and the registry a process serves on
// /metrics: HTTP request durations by route template, what the use cases report through
// app.Observer (payments, refunds, reconciler repairs, webhook events), the card checkout slots,
// the database pool, the build, the Go runtime and the process. Collectors of other adapters (the
// outbox relay's) are registered only by the processes that run them, so a series is never
// exported by a process that cannot move it.
package metrics

import (
	"database/sql"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wolfix/orders/internal/app"
)

// Metrics is one process's registry and the series the service itself counts. It implements
// app.Observer and httpapi.RequestObserver.
type Metrics struct {
	registry      *prometheus.Registry
	requests      *prometheus.HistogramVec
	payments      *prometheus.CounterVec
	refunds       *prometheus.CounterVec
	refundedMinor *prometheus.CounterVec
	reconciler    *prometheus.CounterVec
	webhooks      *prometheus.CounterVec
}

var _ app.Observer = (*Metrics)(nil)

// New builds a registry holding the Go runtime, process and build series and the service's own.
func New(build Build) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wolfix_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route template and status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route", "status"}),
		payments: counter("wolfix_payments_total",
			"Card payments settled, by provider and outcome (paid, failed, anomaly: the provider's report contradicted the order).",
			"provider", "outcome"),
		refunds: counter("wolfix_refunds_total",
			"Refunds the provider answered, by currency and outcome (succeeded, failed).", "currency", "outcome"),
		refundedMinor: counter("wolfix_refunded_amount_minor_units_total",
			"Money refunded successfully, in minor units of the currency (cents for USD).", "currency"),
		reconciler: counter("wolfix_reconciler_actions_total",
			"Repairs the reconciler made, by kind (payment_settled: a payment whose webhook never came; order_expired; refund_retried).",
			"kind"),
		webhooks: counter("wolfix_webhook_events_total",
			"Provider webhook events handled, by event type and outcome (processed, ignored, failed).", "type", "outcome"),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build.collector(),
		m.requests, m.payments, m.refunds, m.refundedMinor, m.reconciler, m.webhooks,
	)
	return m
}

func counter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// Register adds another adapter's collectors (e.g. the outbox relay's) to the registry.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.registry.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// WatchDB exports db's connection pool statistics (go_sql_*{db_name="wolfix"}).
func (m *Metrics) WatchDB(db *sql.DB) error {
	return m.registry.Register(collectors.NewDBStatsCollector(db, "wolfix"))
}

// WatchCheckoutSlots exports how many card checkouts hold a slot and wait for one
// (app.CheckoutSlots): a waiting count that stays up says checkouts are held back for settlement.
func (m *Metrics) WatchCheckoutSlots(s *app.CheckoutSlots) error {
	return m.Register(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wolfix_card_checkouts_waiting",
			Help: "Card checkouts waiting for a checkout slot to use the database."},
			func() float64 { return float64(s.Waiting()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wolfix_card_checkouts_in_slot",
			Help: "Card checkouts holding a checkout slot (using the database)."},
			func() float64 { return float64(s.Held()) }))
}

// Handler serves the registry in the Prometheus exposition format. A collector that fails (the
// outbox backlog while the database is down) leaves out its own series only: the rest, which say
// most about an outage, are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry, ErrorHandling: promhttp.ContinueOnError})
}

// RequestServed records one HTTP request; route is the route template ("/api/orders/:orderId"),
// never the raw path, and a method outside HTTP's own is counted as "other", so that what a
// client sends cannot multiply the series.
func (m *Metrics) RequestServed(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(knownMethod(method), route, strconv.Itoa(status)).Observe(elapsed.Seconds())
}

func knownMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// PaymentSettled implements app.Observer.
func (m *Metrics) PaymentSettled(provider, outcome string) {
	m.payments.WithLabelValues(provider, outcome).Inc()
}

// RefundSettled implements app.Observer.
func (m *Metrics) RefundSettled(currency string, amountMinor int64, outcome string) {
	m.refunds.WithLabelValues(currency, outcome).Inc()
	if outcome == "succeeded" {
		m.refundedMinor.WithLabelValues(currency).Add(float64(amountMinor))
	}
}

// ReconcilerActed implements app.Observer.
func (m *Metrics) ReconcilerActed(kind string) {
	m.reconciler.WithLabelValues(kind).Inc()
}

// WebhookHandled implements app.Observer.
func (m *Metrics) WebhookHandled(eventType, outcome string) {
	m.webhooks.WithLabelValues(eventType, outcome).Inc()
}

// Build identifies the running binary in wolfix_build_info.
type Build struct {
	Version   string
	Commit    string
	GoVersion string
	Modified  bool // built from a work tree with uncommitted changes
}

// ReadBuild describes this binary: version as given (set at link time), else the module version
// the Go toolchain recorded; the VCS revision it was built from; the Go version.
func ReadBuild(version string) Build {
	b := Build{Version: version, Commit: "unknown", GoVersion: "unknown"}
	if info, ok := debug.ReadBuildInfo(); ok {
		b.GoVersion = info.GoVersion
		if b.Version == "" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	return b
}

func (b Build) collector() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "wolfix_build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "goversion": b.GoVersion},
	})
	g.Set(1)
	return g
}
