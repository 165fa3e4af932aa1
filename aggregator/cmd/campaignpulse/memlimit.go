package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// memLimitShare is the part of the container's memory limit the Go heap
// may use; the rest covers the local store's caches outside the heap,
// stacks and the runtime.
const memLimitShare = 0.8

// setMemoryLimit derives GOMEMLIMIT from the container's cgroup memory
// limit unless GOMEMLIMIT is set: without it the collector lets the heap
// grow to twice the live data and the container is OOM-killed long before
// the live data reaches its limit.
func setMemoryLimit(log *slog.Logger) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		log.Info("memory limit from GOMEMLIMIT", "gomemlimit", v)
		return
	}
	limit, src := cgroupMemoryLimit()
	if limit <= 0 {
		log.Info("no container memory limit found; Go memory limit unset")
		return
	}
	soft := int64(float64(limit) * memLimitShare)
	debug.SetMemoryLimit(soft)
	log.Info("Go memory limit derived from the container limit", "container_limit_bytes", limit, "gomemlimit_bytes", soft, "source", src)
}

// cgroupMemoryLimit reads the memory limit of the process's cgroup (v2,
// then v1); 0 when unlimited or unknown.
func cgroupMemoryLimit() (int64, string) {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, f
		}
		n, err := strconv.ParseInt(s, 10, 64)
		// cgroup v1 reports "unlimited" as a huge page-aligned number.
		if err != nil || n <= 0 || n >= 1<<60 {
			return 0, f
		}
		return n, f
	}
	return 0, ""
}
