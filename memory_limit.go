package caddydjango

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/caddy-django/caddy-django/internal/cgroup"
	"github.com/dustin/go-humanize"
	"go.uber.org/zap"
)

// max_memory: a process's memory limit, a size (512MiB) or a share of the
// container's memory limit (80%). The value is checked when the config is
// provisioned (`caddy validate` refuses a bad one on any machine); a share
// is turned into bytes when the config starts, from the control group's
// limit (internal/cgroup), or, without one, from the machine's memory, with
// a warning that says which.

// memoryLimit is a parsed max_memory: bytes, or a percentage.
type memoryLimit struct {
	bytes   int64
	percent float64
}

// maxMemoryExamples ends max_memory's errors.
const maxMemoryExamples = "examples: 512MiB, 1GB, 80%"

// parseMaxMemory parses a max_memory value: "" is no limit.
func parseMaxMemory(s string) (memoryLimit, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return memoryLimit{}, nil
	}
	if num, ok := strings.CutSuffix(s, "%"); ok {
		p, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		switch {
		case err != nil || math.IsNaN(p) || math.IsInf(p, 0):
			return memoryLimit{}, fmt.Errorf("max_memory: %q is not a size or a percentage (%s)", s, maxMemoryExamples)
		case p <= 0:
			return memoryLimit{}, fmt.Errorf("max_memory: %q must be above 0%%", s)
		case p > 100:
			return memoryLimit{}, fmt.Errorf("max_memory: %q is more than the container's memory: a share must be at most 100%%", s)
		}
		return memoryLimit{percent: p}, nil
	}
	n, err := humanize.ParseBytes(s)
	switch {
	case err != nil || strings.HasPrefix(s, "-") || n > 1<<62:
		return memoryLimit{}, fmt.Errorf("max_memory: %q is not a size or a percentage (%s)", s, maxMemoryExamples)
	case n == 0:
		return memoryLimit{}, fmt.Errorf("max_memory: %q must be above zero (%s)", s, maxMemoryExamples)
	}
	return memoryLimit{bytes: int64(n)}, nil
}

// set reports whether there is a limit.
func (m memoryLimit) set() bool { return m.bytes > 0 || m.percent > 0 }

// resolveMemoryLimits gives every process of this config that has
// max_memory its limit in bytes (spec.memLimit): a share is of the
// container's memory limit, or, when there is none, of the machine's
// memory (a warning says so). Called when the config starts, never when it
// is provisioned: `caddy validate` must not depend on the machine.
func (a *App) resolveMemoryLimits() {
	var total int64
	var source string
	var read bool
	for _, s := range a.specs {
		if !s.maxMemory.set() {
			continue
		}
		if runtime.GOOS != "linux" {
			a.logger.Warn("max_memory is not enforced on this system: it reads the processes' memory from Linux's /proc",
				zap.String("process", s.Name), zap.String("max_memory", s.MaxMemory))
			continue
		}
		if s.maxMemory.bytes > 0 {
			s.memLimit = s.maxMemory.bytes
			continue
		}
		if !read {
			read = true
			total, source = a.memoryTotal()
		}
		if total <= 0 {
			a.logger.Error("max_memory is not enforced: neither the container's memory limit nor the machine's memory could be read",
				zap.String("process", s.Name), zap.String("max_memory", s.MaxMemory), zap.String("cgroup", source))
			continue
		}
		s.memLimit = int64(float64(total) * s.maxMemory.percent / 100)
		a.logger.Info("memory limit", zap.String("process", s.Name), zap.String("max_memory", s.MaxMemory),
			zap.Int64("bytes", s.memLimit), zap.String("limit", humanize.IBytes(uint64(s.memLimit))),
			zap.String("of", humanize.IBytes(uint64(total))+" ("+source+")"))
	}
}

// memoryTotal is what a max_memory share is of: the container's memory
// limit, or (with a warning) the machine's memory; and where it was read.
func (a *App) memoryTotal() (int64, string) {
	lim, err := cgroup.Memory()
	if err == nil && lim.Set() {
		return int64(lim.Value), lim.Source
	}
	why := lim.Source
	if err != nil {
		why = err.Error()
	}
	mem := machineMemory()
	if mem > 0 {
		a.logger.Warn("max_memory given as a share: no container memory limit was found, so the share is of the machine's memory",
			zap.String("cgroup", why), zap.String("machine_memory", humanize.IBytes(uint64(mem))))
		return mem, "the machine's memory: " + why
	}
	return 0, why
}

// machineMemory is the machine's memory in bytes (MemTotal of
// /proc/meminfo), 0 when it cannot be read.
func machineMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}
