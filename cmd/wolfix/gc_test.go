package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGCSetsItsTargetUnlessGOGCChoseOne(t *testing.T) {
	before := gcPercent()
	t.Cleanup(func() { debug.SetGCPercent(before) })

	t.Setenv("GOGC", "")
	if err := os.Unsetenv("GOGC"); err != nil {
		t.Fatal(err)
	}
	debug.SetGCPercent(100)
	tuneGC()
	if got := gcPercent(); got != defaultGCPercent {
		t.Errorf("without GOGC: the target is %d; want %d", got, defaultGCPercent)
	}

	t.Setenv("GOGC", "70")
	debug.SetGCPercent(70) // as the runtime did, reading GOGC at start
	tuneGC()
	if got := gcPercent(); got != 70 {
		t.Errorf("with GOGC=70: the target is %d; want 70 left in force", got)
	}
}

// gcPercent reads the garbage collector's target without changing it.
func gcPercent() int {
	target := debug.SetGCPercent(-1)
	debug.SetGCPercent(target)
	return target
}
