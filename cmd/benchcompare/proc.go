package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 on every
// architecture Go supports on Linux).
const clockTicks = 100

// procCPUTime is the user plus system CPU time the process has used so far (0 if unreadable).
func procCPUTime(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may contain spaces; the fields after its closing parenthesis
	// start with field 3, so utime (14) and stime (15) are at offsets 11 and 12.
	rest := string(raw[strings.LastIndexByte(string(raw), ')')+1:])
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// machineBusyTime is the CPU time all of the machine's processors spent busy so far (user, nice,
// system, irq and softirq in /proc/stat's cpu line; idle, I/O wait and time stolen by the
// hypervisor left out), 0 if unreadable: the service's, Postgres's and the load generator's work
// alike.
func machineBusyTime() time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	fields := strings.Fields(line)
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7} { // user, nice, system, irq, softirq
		n, _ := strconv.ParseInt(fields[i], 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks
}

// procStatusKB reads a "<key>: N kB" line of /proc/<pid>/status, e.g. VmHWM (peak resident set).
func procStatusKB(pid int, key string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if ok && name == key {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}
