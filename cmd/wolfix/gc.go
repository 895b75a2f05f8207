package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target when GOGC is not set: the heap may grow to
// three times what survived the last collection before the next one, where Go's default (100)
// collects at twice. The service's live heap is small and its garbage is per request, so at Go's
// default it collected so often that marking, and regrowing the goroutine stacks collections had
// shrunk, took an eighth of its CPU under load (see Speed in the README).
const defaultGCPercent = 200

// tuneGC sets defaultGCPercent unless the operator chose with GOGC, which the runtime has read at
// start (as it reads GOMEMLIMIT).
func tuneGC() {
	if _, chosen := os.LookupEnv("GOGC"); !chosen {
		debug.SetGCPercent(defaultGCPercent)
	}
}
