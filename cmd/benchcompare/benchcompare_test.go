package main

import (
	"os"
	"testing"
)

func TestParseTPS(t *testing.T) {
	out := []byte("latency average = 27.715 ms\ninitial connection time = 40.1 ms\ntps = 1154.596437 (without initial connection time)\n")
	got, err := parseTPS(out)
	if err != nil || got != 1154.596437 {
		t.Fatalf("parseTPS = %v, %v; want 1154.596437", got, err)
	}
	if _, err := parseTPS([]byte("pgbench: error: Run was aborted")); err == nil {
		t.Fatal("parseTPS accepted output without a tps line")
	}
}

func TestMedianIsTakenPerFigure(t *testing.T) {
	rounds := []round{{floorTPS: 300}, {floorTPS: 100}, {floorTPS: 200}, {floorTPS: 400}}
	if got := median(rounds, func(r round) float64 { return r.floorTPS }); got != 200 {
		t.Fatalf("median = %v; want 200 (the lower middle of four)", got)
	}
}

func TestProcReadsThisProcess(t *testing.T) {
	if kb := procStatusKB(os.Getpid(), "VmHWM"); kb <= 0 {
		t.Fatalf("VmHWM of this process = %d kB; want > 0", kb)
	}
	busy := 0
	for i := range 50_000_000 {
		busy += i
	}
	if cpu := procCPUTime(os.Getpid()); cpu <= 0 {
		t.Fatalf("CPU time of this process = %v after a busy loop (%d); want > 0", cpu, busy)
	}
}

func TestOnlyALoopbackPostgresIsLoaded(t *testing.T) {
	for url, ok := range map[string]bool{
		"postgres://postgres@127.0.0.1:5432/postgres": true,
		"postgres://postgres@localhost/postgres":      true,
		"postgres://postgres@10.1.2.3/postgres":       false,
		"postgres://db.example.com/postgres":          false,
	} {
		if err := requireLoopback(url); (err == nil) != ok {
			t.Errorf("requireLoopback(%q) = %v; want ok=%v", url, err, ok)
		}
	}
}
