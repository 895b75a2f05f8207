package metrics_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolfix/orders/internal/adapters/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, err := io.ReadAll(rec.Body)
	if err != nil || rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %v", rec.Code, err)
	}
	return string(body)
}

// A client choosing the method cannot add series: unknown methods count as "other".
func TestRequestMethodsOutsideHTTPsOwnAreOther(t *testing.T) {
	m := metrics.New(metrics.Build{Version: "v1", Commit: "abc", GoVersion: "go1.26"})
	m.RequestServed("GET", "/api/products", 200, time.Millisecond)
	for _, method := range []string{"BREW", "get", "X-" + strings.Repeat("A", 100)} {
		m.RequestServed(method, "unmatched", 405, time.Millisecond)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`wolfix_http_request_duration_seconds_count{method="GET",route="/api/products",status="200"} 1`,
		`wolfix_http_request_duration_seconds_count{method="other",route="unmatched",status="405"} 3`,
		`wolfix_build_info{commit="abc",goversion="go1.26",version="v1"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(out, "BREW") {
		t.Errorf("/metrics names a client's own method")
	}
}

// Refunds count once each and add their minor units only when they succeeded.
func TestRefundsCountAmountsOfSucceededOnly(t *testing.T) {
	m := metrics.New(metrics.ReadBuild(""))
	m.RefundSettled("USD", 1050, "succeeded")
	m.RefundSettled("USD", 200, "succeeded")
	m.RefundSettled("USD", 999, "failed")
	out := scrape(t, m)
	for _, want := range []string{
		`wolfix_refunds_total{currency="USD",outcome="succeeded"} 2`,
		`wolfix_refunds_total{currency="USD",outcome="failed"} 1`,
		`wolfix_refunded_amount_minor_units_total{currency="USD"} 1250`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// failingCollector is a collector whose source is down, as the outbox backlog is when the
// database is.
type failingCollector struct{ desc *prometheus.Desc }

func (c failingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c failingCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(c.desc, errors.New("database unreachable"))
}

// One failing collector costs its own series only: the scrape still answers 200 with the rest.
func TestAFailingCollectorLeavesTheRestServed(t *testing.T) {
	m := metrics.New(metrics.ReadBuild(""))
	if err := m.Register(failingCollector{prometheus.NewDesc("wolfix_outbox_backlog", "test", nil, nil)}); err != nil {
		t.Fatal(err)
	}
	m.PaymentSettled("stripe", "paid")
	out := scrape(t, m)
	if !strings.Contains(out, `wolfix_payments_total{outcome="paid",provider="stripe"} 1`) || !strings.Contains(out, "wolfix_build_info{") {
		t.Errorf("the scrape lost the healthy series:\n%s", out)
	}
}
