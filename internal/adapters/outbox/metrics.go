package outbox

import (
	"context"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts what the relay publishes and remembers whether the broker takes it.
type metrics struct {
	published *prometheus.CounterVec
	failed    *prometheus.CounterVec
	lag       prometheus.Histogram
	// gauges are read from the database at scrape time: the backlog, and on Postgres the age of
	// the oldest open transaction that holds the relay's reads back.
	gauges []prometheus.Collector

	mu           sync.Mutex
	lastProgress time.Time
	publishErr   error
}

func newMetrics(gauges ...prometheus.Collector) *metrics {
	return &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wolfix_outbox_events_published_total",
			Help: "Events the relay published to the broker, by topic.",
		}, []string{"topic"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wolfix_outbox_events_failed_total",
			Help: "Attempts to publish an event that the broker refused, by topic (the event is retried).",
		}, []string{"topic"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wolfix_outbox_relay_lag_seconds",
			Help:    "Time from an event's occurredAt to its publication on the broker.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		gauges: gauges,
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return append([]prometheus.Collector{m.published, m.failed, m.lag}, m.gauges...)
}

func (m *metrics) markProgress(at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastProgress, m.publishErr = at, nil
}

func (m *metrics) markFailure(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.publishErr = err
}

// state returns when the relay last published and, if the latest attempt failed, its error.
func (m *metrics) state() (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastProgress, m.publishErr
}

// meteredPublisher publishes to the broker and records the outcome.
type meteredPublisher struct {
	next    message.Publisher
	metrics *metrics
}

func (p meteredPublisher) Publish(topic string, msgs ...*message.Message) error {
	endTrace := traceRelay(topic, msgs)
	err := p.next.Publish(topic, msgs...)
	endTrace(err)
	if err != nil {
		p.metrics.failed.WithLabelValues(topic).Add(float64(len(msgs)))
		p.metrics.markFailure(err)
		return err
	}
	now := time.Now()
	p.metrics.published.WithLabelValues(topic).Add(float64(len(msgs)))
	for _, msg := range msgs {
		if at, ok := occurredAt(msg); ok {
			p.metrics.lag.Observe(now.Sub(at).Seconds())
		}
	}
	p.metrics.markProgress(now)
	return nil
}

// Close does nothing: the broker publisher belongs to whoever gave it to the relay.
func (meteredPublisher) Close() error { return nil }

// scrapedGauge is a gauge read from the database at scrape time.
type scrapedGauge struct {
	read func(context.Context) (float64, error)
	desc *prometheus.Desc
}

func newScrapedGauge(name, help string, read func(context.Context) (float64, error)) scrapedGauge {
	return scrapedGauge{read: read, desc: prometheus.NewDesc(name, help, nil, nil)}
}

// gaugeScrapeTimeout bounds the query a scrape waits for.
const gaugeScrapeTimeout = 2 * time.Second

func (c scrapedGauge) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c scrapedGauge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), gaugeScrapeTimeout)
	defer cancel()
	v, err := c.read(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v)
}
