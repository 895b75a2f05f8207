package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wolfix/orders/internal/loadreport"
)

// recorder collects one customer's observations; each customer has its own, so recording takes no
// lock, and the run merges them at the end. Latencies are kept as raw samples, so percentiles are
// exact rather than bucketed (a 20 s run at a few thousand requests/s is well under a megabyte).
type recorder struct {
	latency  map[string][]time.Duration // endpoint → every response's latency
	spans    map[string][]time.Duration // named multi-request intervals, e.g. confirm→Paid
	failures map[failure]int
	orders   int64
}

// failure is one kind of failed request: an HTTP error status with its problem code, a transport
// error (status 0), or a broken flow (status 0, endpoint "flow").
type failure struct {
	endpoint string
	status   int
	code     string
}

func newRecorder() *recorder {
	return &recorder{latency: map[string][]time.Duration{}, spans: map[string][]time.Duration{},
		failures: map[failure]int{}}
}

// observe records a response; statuses of 400 and above also count as failures.
func (r *recorder) observe(endpoint string, d time.Duration, status int, code string) {
	r.latency[endpoint] = append(r.latency[endpoint], d)
	if status >= 400 {
		r.failures[failure{endpoint, status, code}]++
	}
}

// fail records a request that got no response, or a flow that went wrong.
func (r *recorder) fail(endpoint, what string) {
	r.failures[failure{endpoint, 0, what}]++
}

// span records a named interval that is not one request.
func (r *recorder) span(name string, d time.Duration) {
	r.spans[name] = append(r.spans[name], d)
}

func (r *recorder) merge(o *recorder) {
	for k, v := range o.latency {
		r.latency[k] = append(r.latency[k], v...)
	}
	for k, v := range o.spans {
		r.spans[k] = append(r.spans[k], v...)
	}
	for k, v := range o.failures {
		r.failures[k] += v
	}
	r.orders += o.orders
}

// result is a finished run.
type result struct {
	*recorder
	elapsed time.Duration
}

func (res result) print(out io.Writer, cfg config) {
	requests := 0
	for _, s := range res.latency {
		requests += len(s)
	}
	failed := 0
	for _, n := range res.failures {
		failed += n
	}
	secs := res.elapsed.Seconds()
	fmt.Fprintf(out, "\nran %s: %d requests (%.0f req/s), %d orders completed (%.1f orders/s), %d failures\n",
		res.elapsed.Round(time.Millisecond), requests, float64(requests)/secs, res.orders,
		float64(res.orders)/secs, failed)
	if load := loadAverage(); load != "" {
		fmt.Fprintf(out, "load average at the end (1/5/15 min): %s\n", load)
	}

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nlatency (ms)\tcount\treq/s\tp50\tp90\tp99\tmax\t")
	for _, name := range slices.Sorted(maps.Keys(res.latency)) {
		writeRow(tw, name, res.latency[name], secs)
	}
	for _, name := range slices.Sorted(maps.Keys(res.spans)) {
		writeRow(tw, name, res.spans[name], secs)
	}
	_ = tw.Flush()

	if len(res.failures) == 0 {
		fmt.Fprintln(out, "\nno failures")
		return
	}
	fmt.Fprintln(out, "\nfailures")
	keys := slices.SortedFunc(maps.Keys(res.failures), func(a, b failure) int {
		return cmp.Or(strings.Compare(a.endpoint, b.endpoint), cmp.Compare(a.status, b.status), strings.Compare(a.code, b.code))
	})
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, k := range keys {
		status := fmt.Sprint(k.status)
		if k.status == 0 {
			status = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\n", k.endpoint, status, k.code, res.failures[k])
	}
	_ = tw.Flush()
}

// summary is the run's figures as JSON, for tools that compare runs (make bench-compare).
func (res result) summary() loadreport.Summary {
	s := loadreport.Summary{ElapsedSeconds: res.elapsed.Seconds(), Orders: res.orders,
		Latency: map[string]loadreport.Distribution{}, Spans: map[string]loadreport.Distribution{}}
	s.OrdersPerSec = float64(res.orders) / s.ElapsedSeconds
	for name, samples := range res.latency {
		s.Requests += len(samples)
		s.Latency[name] = loadreport.DistributionOf(samples)
	}
	for name, samples := range res.spans {
		s.Spans[name] = loadreport.DistributionOf(samples)
	}
	for _, n := range res.failures {
		s.Failures += n
	}
	return s
}

func (res result) writeJSON(path string) error {
	raw, err := json.MarshalIndent(res.summary(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o644)
}

func writeRow(w io.Writer, name string, samples []time.Duration, secs float64) {
	slices.Sort(samples)
	fmt.Fprintf(w, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t\n", name, len(samples), float64(len(samples))/secs,
		ms(loadreport.Quantile(samples, 0.50)), ms(loadreport.Quantile(samples, 0.90)), ms(loadreport.Quantile(samples, 0.99)), ms(samples[len(samples)-1]))
}

// quantile returns the sample at or below which a fraction q of the sorted samples lie (the
// nearest-rank definition: no interpolation, every value reported was observed).
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

// loadAverage returns the machine's load averages (Linux), or "" elsewhere. Other work on the
// machine changes the figures; the report says how busy it was.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
