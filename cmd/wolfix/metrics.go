package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wolfix/orders/internal/adapters/outbox"
)

// metricsHandler serves the process's metrics and the outbox relay's (backlog, lag, published
// and failed events per topic) in Prometheus format, from a registry of this process's own.
func metricsHandler(relay *outbox.Relay) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(relay.Collectors()...)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
