package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// round is one floor measurement and the service measurements that followed it.
type round struct {
	floor   floorFigures
	service serviceFigures
}

// report prints each run, then the medians; ratios are taken per run (floor and service of the
// same run) before the median, so a run on a busier machine does not skew the other's ratio.
func report(out io.Writer, s settings, floorLabel string, rounds []round) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(out, "\nper run (%d clients, %s each; latencies in ms)\n", s.customers, s.duration)
	fmt.Fprintln(tw, "run\tfloor tps\tfloor p99\tworkload\torders/s\tratio\tfailures\tp50\tp90\tp99\tconfirm→Paid p50\tp99\tCPU-ms/order\tmachine CPU-ms/order\tevents behind\tdrained in s\t")
	for i, r := range rounds {
		for _, mode := range s.modes {
			m := r.service.modes[mode]
			fmt.Fprintf(tw, "%d\t%.0f\t%.1f\t%s\t%.1f\t%.3f\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%.0f\t%.1f\t\n", i+1,
				r.floor.tps, r.floor.latency.P99, mode, m.OrdersPerSec, m.OrdersPerSec/r.floor.tps, m.Failures, m.Create.P50, m.Create.P90, m.Create.P99,
				m.ConfirmToPaid.P50, m.ConfirmToPaid.P99, m.CPUMsPerOrder, m.MachineCPUMsPerOrder, m.EventsBehind, m.DrainSeconds)
		}
	}
	_ = tw.Flush()

	fmt.Fprintf(out, "\nmedians of %d runs\n", len(rounds))
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%.0f tps; p50/p90/p99 %.1f/%.1f/%.1f ms\n", floorLabel, median(rounds, func(r round) float64 { return r.floor.tps }),
		median(rounds, func(r round) float64 { return r.floor.latency.P50 }), median(rounds, func(r round) float64 { return r.floor.latency.P90 }),
		median(rounds, func(r round) float64 { return r.floor.latency.P99 }))
	for _, mode := range s.modes {
		pick := func(f func(modeFigures) float64) float64 {
			return median(rounds, func(r round) float64 { return f(r.service.modes[mode]) })
		}
		fmt.Fprintf(tw, "%s\t%.1f orders/s = %.3f × floor; p50/p90/p99 %.1f/%.1f/%.1f ms; %.0f failures; %.2f CPU-ms/order (machine %.2f)\n",
			mode, pick(func(m modeFigures) float64 { return m.OrdersPerSec }),
			median(rounds, func(r round) float64 { return r.service.modes[mode].OrdersPerSec / r.floor.tps }),
			pick(func(m modeFigures) float64 { return m.Create.P50 }), pick(func(m modeFigures) float64 { return m.Create.P90 }),
			pick(func(m modeFigures) float64 { return m.Create.P99 }), pick(func(m modeFigures) float64 { return float64(m.Failures) }),
			pick(func(m modeFigures) float64 { return m.CPUMsPerOrder }), pick(func(m modeFigures) float64 { return m.MachineCPUMsPerOrder }))
		fmt.Fprintf(tw, "  events not relayed as the load ended\t%.0f, relayed %.1f s later (CPU/order counts until then)\n",
			pick(func(m modeFigures) float64 { return m.EventsBehind }), pick(func(m modeFigures) float64 { return m.DrainSeconds }))
		if mode == "card-flow" {
			fmt.Fprintf(tw, "  confirm → Paid (committed)\tp50 %.1f ms, p99 %.1f ms\n",
				pick(func(m modeFigures) float64 { return m.ConfirmToPaid.P50 }), pick(func(m modeFigures) float64 { return m.ConfirmToPaid.P99 }))
			fmt.Fprintf(tw, "  confirm → Paid seen by polling\tp50 %.1f ms, p99 %.1f ms\n",
				pick(func(m modeFigures) float64 { return m.ConfirmToPaidSeen.P50 }), pick(func(m modeFigures) float64 { return m.ConfirmToPaidSeen.P99 }))
		}
	}
	fmt.Fprintf(tw, "peak RSS under load\t%.0f MB\n", median(rounds, func(r round) float64 { return r.service.peakRSSMB }))
	fmt.Fprintf(tw, "start-up to ready (migrated database)\t%.0f ms\n", median(rounds, func(r round) float64 { return r.service.startupMs }))
	_ = tw.Flush()
}

// median of f over the rounds (the lower middle for an even count).
func median(rounds []round, f func(round) float64) float64 {
	vals := make([]float64, 0, len(rounds))
	for _, r := range rounds {
		vals = append(vals, f(r))
	}
	slices.Sort(vals)
	return vals[(len(vals)-1)/2]
}
