package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wolfix/orders/internal/adapters/httpapi"
)

// opsProbeTimeout bounds each readiness probe of the operations listener.
const opsProbeTimeout = 2 * time.Second

// opsShutdownTimeout bounds how long a stopping worker waits for a scrape or probe in flight.
const opsShutdownTimeout = 2 * time.Second

// startOps serves a worker role's operations endpoints on addr (WOLFIX_OPS_ADDR): /healthz (the
// process is alive), /readyz (every check passes; else 503 problem+json naming the failed ones,
// as the API's /readyz does) and /metrics. An empty addr serves nothing. stop shuts it down.
func startOps(addr string, log *slog.Logger, checks []httpapi.Check, metrics http.Handler) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (WOLFIX_OPS_ADDR): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeOpsJSON(w, http.StatusOK, "application/json", map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { readyz(w, r, log, checks) })
	mux.Handle("GET /metrics", metrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("operations listener stopped", "error", err)
		}
	}()
	log.Info("operations endpoints listening", "url", "http://"+ln.Addr().String(), "paths", "/healthz /readyz /metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), opsShutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

func readyz(w http.ResponseWriter, r *http.Request, log *slog.Logger, checks []httpapi.Check) {
	var failed []string
	for _, check := range checks {
		ctx, cancel := context.WithTimeout(r.Context(), opsProbeTimeout)
		err := check.Probe(ctx)
		cancel()
		if err != nil {
			log.Warn("readiness check failed", "check", check.Name, "error", err)
			failed = append(failed, check.Name)
		}
	}
	if len(failed) > 0 {
		writeOpsJSON(w, http.StatusServiceUnavailable, "application/problem+json", map[string]any{
			"type": "about:blank", "title": http.StatusText(http.StatusServiceUnavailable), "status": http.StatusServiceUnavailable,
			"code": "not_ready", "detail": "not ready: " + strings.Join(failed, ", "), "unavailable": failed})
		return
	}
	writeOpsJSON(w, http.StatusOK, "application/json", map[string]string{"status": "ready"})
}

func writeOpsJSON(w http.ResponseWriter, status int, contentType string, body any) {
	w.Header().Set("Content-Type", contentType)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
