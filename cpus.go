package caddydjango

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strconv"

	"github.com/caddy-django/caddy-django/internal/cgroup"
	"go.uber.org/zap"
)

// Worker and replica counts from the machine: `workers auto` and `replicas
// auto` stay `"auto"` in the JSON config (what `caddy adapt` prints) and
// are resolved when the config is provisioned (`caddy run`, a reload,
// `caddy validate`), from the CPUs the container may use: its cgroup's CPU
// quota (v2 `cpu.max`, else v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`,
// the smallest on the way up to the root), else the online CPUs. Reading
// them starts nothing.

// autoCount is the JSON and Caddyfile word for a count from the CPUs.
const autoCount = "auto"

// Count is a number of processes: a whole number, or `auto` for one
// computed from the CPUs the container may use (see availableCPUs). In
// JSON, a number or the string "auto". The zero value is unset.
type Count struct {
	n    int
	auto bool
	set  bool
}

// countOf is the count n.
func countOf(n int) Count { return Count{n: n, set: true} }

// countAuto is `auto`.
var countAuto = Count{auto: true, set: true}

// IsZero reports whether the count is unset (for `omitzero`).
func (c Count) IsZero() bool { return !c.set }

// String is the count as written in a Caddyfile.
func (c Count) String() string {
	if c.auto {
		return autoCount
	}
	return strconv.Itoa(c.n)
}

// MarshalJSON writes a number, or "auto".
func (c Count) MarshalJSON() ([]byte, error) {
	if c.auto {
		return json.Marshal(autoCount)
	}
	return json.Marshal(c.n)
}

// UnmarshalJSON reads a whole number (at least 0) or "auto".
func (c *Count) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s != autoCount {
			return fmt.Errorf("count %q: want a whole number or %q", s, autoCount)
		}
		*c = countAuto
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("count %s: want a whole number or %q", b, autoCount)
	}
	if n < 0 {
		return fmt.Errorf("count %d must not be negative", n)
	}
	*c = countOf(n)
	return nil
}

// cpuCount is the number of CPUs processes may use, and where it came from.
type cpuCount struct {
	n      int
	source string
}

// availableCPUs is the CPU count for `auto`: the cgroup's CPU quota
// rounded up to a whole CPU (1.5 CPUs count as 2, 0.5 as 1: a quota is an
// average, and worker processes waiting on the database use none of it),
// at most the online CPUs (runtime.NumCPU: those of the process's
// affinity mask, as `taskset` and cgroup cpusets set it); without a
// quota, the online CPUs. An unreadable cgroup counts as no quota, and
// says so in the source.
func availableCPUs() cpuCount {
	q, err := cgroup.CPU()
	return cpusFrom(runtime.NumCPU(), q, err)
}

// cpusFrom is availableCPUs' rule for online CPUs and a quota reading.
func cpusFrom(online int, quota cgroup.Limit, err error) cpuCount {
	online = max(online, 1)
	switch {
	case err != nil:
		return cpuCount{online, fmt.Sprintf("%d online CPUs (the cgroup's CPU quota could not be read: %v)", online, err)}
	case !quota.Set():
		return cpuCount{online, fmt.Sprintf("%d online CPUs, no CPU quota", online)}
	}
	n := max(int(math.Ceil(quota.Value-1e-9)), 1)
	if n >= online {
		return cpuCount{online, fmt.Sprintf("%d online CPUs (below the CPU quota of %s from %s)", online, formatCPUs(quota.Value), quota.Source)}
	}
	return cpuCount{n, fmt.Sprintf("CPU quota of %s rounded up, from %s", formatCPUs(quota.Value), quota.Source)}
}

// formatCPUs writes a quota such as 1.5 or 0.25 without trailing zeros.
func formatCPUs(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

// resolveCount is c as a number: auto is fromCPUs(availableCPUs()). It
// says how auto was resolved (nil for a number).
func resolveCount(c Count, fromCPUs func(cpus int) int) (int, *cpuCount) {
	if !c.auto {
		return c.n, nil
	}
	n := availableCPUs()
	return fromCPUs(n.n), &n
}

// gunicornWorkers is Gunicorn's advice for its sync workers: (2 × CPUs) + 1.
func gunicornWorkers(cpus int) int { return 2*cpus + 1 }

// oneEach is one process per CPU: the other servers' workers, replicas.
func oneEach(cpus int) int { return cpus }

// workerCount is the entry's workers for kind: 0 for the server's
// default, auto resolved (and logged).
func (g *AppServerConfig) workerCount(a *App, kind *serverKind) (int, error) {
	fromCPUs := oneEach
	if kind.word == gunicornName {
		fromCPUs = gunicornWorkers
	}
	n, cpus := resolveCount(g.Workers, fromCPUs)
	if n < 0 {
		return 0, fmt.Errorf("workers must be at least 1")
	}
	if cpus != nil && kind.workers != "" {
		a.logAuto(g.serverName(), "workers", n, cpus)
	}
	return n, nil
}

// logAuto logs how `auto` was resolved for an entry's option.
func (a *App) logAuto(name, option string, n int, cpus *cpuCount) {
	if a.logger == nil {
		return
	}
	a.logger.Info(option+" auto", zap.String("process", name), zap.Int(option, n),
		zap.Int("cpus", cpus.n), zap.String("cpus_from", cpus.source))
}
