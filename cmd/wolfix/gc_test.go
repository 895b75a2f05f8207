package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGCSetsItsTargetUnlessGOGCChoseOne(t *testing.T) {
	before := debug.SetGCPercent(-1)
	debug.SetGCPercent(before)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	t.Setenv("GOGC", "")
	if err := os.Unsetenv("GOGC"); err != nil {
		t.Fatal(err)
	}
	debug.SetGCPercent(100)
	if got := tuneGC(); got != defaultGCPercent || debug.SetGCPercent(before) != defaultGCPercent {
		t.Errorf("without GOGC: tuneGC() = %d; want the target %d in force", got, defaultGCPercent)
	}

	t.Setenv("GOGC", "70") // as if the runtime had read it at start
	debug.SetGCPercent(70)
	if got := tuneGC(); got != 70 || debug.SetGCPercent(before) != 70 {
		t.Errorf("with GOGC=70: tuneGC() = %d; want 70 left in force", got)
	}
}
