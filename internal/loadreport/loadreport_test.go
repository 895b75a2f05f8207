package loadreport

import (
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i))
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{{0.5, 50}, {0.9, 90}, {0.99, 99}, {1, 100}, {0, 1}}
	for _, tt := range tests {
		if got := Quantile(s, tt.q); got != tt.want {
			t.Errorf("Quantile(1..100, %v) = %v; want %v", tt.q, got, tt.want)
		}
	}
	if got := Quantile(nil, 0.5); got != 0 {
		t.Errorf("Quantile(nil) = %v; want 0", got)
	}
}

func TestDistributionOfUnsortedSamples(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	want := Distribution{Count: 100, P50: 50, P90: 90, P99: 99, Max: 100}
	if got := DistributionOf(s); got != want {
		t.Errorf("DistributionOf(100..1 ms) = %+v; want %+v", got, want)
	}
	if s[0] != 100*time.Millisecond {
		t.Error("DistributionOf sorted its argument")
	}
}
