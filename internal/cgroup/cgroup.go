// Package cgroup reads the limits that the kernel's control groups put on a
// process, which in a container are the container's own: its memory limit
// and its CPU quota. Both cgroup v2 (the unified hierarchy: memory.max,
// cpu.max) and v1 (memory.limit_in_bytes, cpu.cfs_quota_us and
// cpu.cfs_period_us) are read, as are hybrid hosts that mount both (a v2
// hierarchy without the controller does not count).
//
// A limit set on an ancestor cgroup applies too: the smallest limit on the
// path from the process's cgroup up to the root of the hierarchy visible to
// the process wins, as the kernel enforces it.
//
// On systems without cgroups (not Linux, or none mounted) every limit is
// reported as absent, not as an error.
package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Reader reads cgroup limits. The zero value reads the calling process's
// limits from the real /proc and /sys.
type Reader struct {
	// Root is prefixed to every path read: "" (or "/") for the real
	// system; a directory laid out like one (proc/self/mountinfo,
	// proc/self/cgroup, sys/fs/cgroup/...) in tests.
	Root string

	// PID is the process whose limits are read; 0 for the calling process.
	PID int
}

// Limit is a limit found in a cgroup file.
type Limit struct {
	// Value is the limit: bytes for memory, CPUs (quota / period, may be
	// fractional) for CPU. 0 when there is no limit.
	Value float64

	// Source names the file the limit was read from, with the cgroup
	// version (e.g. "cgroup v2 /sys/fs/cgroup/memory.max"), or says why
	// there is none. For messages.
	Source string
}

// Set reports whether there is a limit.
func (l Limit) Set() bool { return l.Value > 0 }

// unlimitedV1 is the smallest value a v1 memory.limit_in_bytes holds when
// no limit is set: the kernel reports PAGE_COUNTER_MAX pages, a value near
// 2^63 rounded down to the page size (9223372036854771712 on 4 KiB pages).
const unlimitedV1 = 1 << 62

// Memory returns the memory limit in bytes (Value 0 when none).
func (r Reader) Memory() (Limit, error) {
	return r.smallest("memory", readMemory)
}

// CPU returns the CPU quota in CPUs (quota / period; Value 0 when none).
func (r Reader) CPU() (Limit, error) {
	return r.smallest("cpu", readCPU)
}

// Memory returns the calling process's memory limit in bytes (0 when none)
// and where it was read.
func Memory() (Limit, error) { return Reader{}.Memory() }

// CPU returns the calling process's CPU quota in CPUs (0 when none) and
// where it was read.
func CPU() (Limit, error) { return Reader{}.CPU() }

// MemoryDir returns the directory of the process's own memory cgroup (in
// the first hierarchy where the memory controller is enabled for it) and
// the name of the memory limit file there (memory.max on v2,
// memory.limit_in_bytes on v1). A child cgroup made in it (as root) and
// given a limit is how tests run a program under a container's limit.
func (r Reader) MemoryDir() (dir, limitFile string, err error) {
	hs, err := r.hierarchies("memory")
	if err != nil {
		return "", "", err
	}
	for _, h := range hs {
		file := "memory.limit_in_bytes"
		if h.v2 {
			file = "memory.max"
		}
		if _, err := os.Stat(filepath.Join(h.dir, file)); err == nil {
			return h.dir, file, nil
		}
	}
	return "", "", fmt.Errorf("no hierarchy has the memory controller enabled for this process's cgroup: %w", fs.ErrNotExist)
}

// readLimit reads one cgroup directory's limit for a controller: ok is
// false when the directory has no such file (the controller is not enabled
// there); value 0 means the file says there is no limit.
type readLimit func(dir string, v2 bool) (value float64, file string, ok bool, err error)

// smallest finds the controller's hierarchy (v2 first, then v1) and returns
// the smallest limit on the path from the process's cgroup to the
// hierarchy's root.
func (r Reader) smallest(controller string, read readLimit) (Limit, error) {
	hs, err := r.hierarchies(controller)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Limit{Source: "no cgroup information (" + err.Error() + ")"}, nil
		}
		return Limit{}, err
	}
	for _, h := range hs {
		best, bestFile, found := math.Inf(1), "", false
		for dir := h.dir; ; dir = filepath.Dir(dir) {
			v, file, ok, err := read(dir, h.v2)
			if err != nil {
				return Limit{}, err
			}
			if ok {
				found = true
				if v > 0 && v < best {
					best, bestFile = v, file
				}
			}
			if dir == h.mount || len(dir) <= len(h.mount) {
				break
			}
		}
		if !found && h.v2 && enabled(h.mount, controller) {
			found = true // the root cgroup of a v2 host has no limit files
		}
		if !found {
			continue // e.g. a v2 hierarchy without this controller (hybrid hosts)
		}
		version := "cgroup v1"
		if h.v2 {
			version = "cgroup v2"
		}
		if math.IsInf(best, 1) {
			return Limit{Source: version + ": no " + controller + " limit set"}, nil
		}
		return Limit{Value: best, Source: version + " " + r.display(bestFile)}, nil
	}
	return Limit{Source: "no cgroup " + controller + " controller mounted"}, nil
}

// display turns a path under Root back into the path the process sees.
func (r Reader) display(p string) string {
	if r.Root == "" || r.Root == "/" {
		return p
	}
	rel, err := filepath.Rel(r.Root, p)
	if err != nil {
		return p
	}
	return "/" + filepath.ToSlash(rel)
}

// enabled reports whether a v2 hierarchy mounted at mount has the
// controller (its root's cgroup.controllers lists it).
func enabled(mount, controller string) bool {
	b, err := os.ReadFile(filepath.Join(mount, "cgroup.controllers"))
	return err == nil && slices.Contains(strings.Fields(string(b)), controller)
}

// readMemory reads memory.max (v2: a number or "max") or
// memory.limit_in_bytes (v1: a number, near 2^63 when unlimited).
func readMemory(dir string, v2 bool) (float64, string, bool, error) {
	name := "memory.limit_in_bytes"
	if v2 {
		name = "memory.max"
	}
	file := filepath.Join(dir, name)
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, file, false, ignoreMissing(err)
	}
	s := strings.TrimSpace(string(b))
	if v2 && s == "max" {
		return 0, file, true, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, file, false, fmt.Errorf("reading %s: %q is not a byte count", file, s)
	}
	if !v2 && n >= unlimitedV1 {
		return 0, file, true, nil
	}
	return float64(n), file, true, nil
}

// readCPU reads cpu.max (v2: "<quota|max> <period>") or cpu.cfs_quota_us
// and cpu.cfs_period_us (v1: -1 when unlimited).
func readCPU(dir string, v2 bool) (float64, string, bool, error) {
	if v2 {
		file := filepath.Join(dir, "cpu.max")
		b, err := os.ReadFile(file)
		if err != nil {
			return 0, file, false, ignoreMissing(err)
		}
		f := strings.Fields(string(b))
		if len(f) == 0 || len(f) > 2 {
			return 0, file, false, fmt.Errorf("reading %s: %q is not \"<quota> <period>\"", file, strings.TrimSpace(string(b)))
		}
		if f[0] == "max" {
			return 0, file, true, nil
		}
		period := "100000" // the kernel's default when only the quota is written
		if len(f) == 2 {
			period = f[1]
		}
		v, err := ratio(f[0], period)
		if err != nil {
			return 0, file, false, fmt.Errorf("reading %s: %v", file, err)
		}
		return v, file, true, nil
	}
	qfile := filepath.Join(dir, "cpu.cfs_quota_us")
	q, err := os.ReadFile(qfile)
	if err != nil {
		return 0, qfile, false, ignoreMissing(err)
	}
	quota := strings.TrimSpace(string(q))
	if strings.HasPrefix(quota, "-") {
		return 0, qfile, true, nil
	}
	pfile := filepath.Join(dir, "cpu.cfs_period_us")
	p, err := os.ReadFile(pfile)
	if err != nil {
		return 0, pfile, false, fmt.Errorf("reading %s: %v", pfile, err)
	}
	v, err := ratio(quota, strings.TrimSpace(string(p)))
	if err != nil {
		return 0, qfile, false, fmt.Errorf("reading %s: %v", qfile, err)
	}
	return v, qfile, true, nil
}

// ratio parses quota/period (microseconds) into CPUs.
func ratio(quota, period string) (float64, error) {
	q, err := strconv.ParseUint(quota, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("quota %q is not a number", quota)
	}
	p, err := strconv.ParseUint(period, 10, 64)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("period %q is not a positive number", period)
	}
	return float64(q) / float64(p), nil
}

func ignoreMissing(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil
	}
	return err
}

// hierarchy is a cgroup hierarchy that may hold a controller: the
// process's cgroup directory in it and the hierarchy's mount point.
type hierarchy struct {
	v2    bool
	dir   string // the process's cgroup directory (under Root)
	mount string // the mount point (under Root)
}

// hierarchies returns where to look for a controller's limits: the v2
// hierarchy (if mounted) first, then the v1 hierarchy that has the
// controller (if mounted).
func (r Reader) hierarchies(controller string) ([]hierarchy, error) {
	proc := "self"
	if r.PID > 0 {
		proc = strconv.Itoa(r.PID)
	}
	cg, err := os.ReadFile(r.path("/proc", proc, "cgroup"))
	if err != nil {
		return nil, err
	}
	mi, err := os.ReadFile(r.path("/proc", proc, "mountinfo"))
	if err != nil {
		return nil, err
	}
	mounts := parseMountinfo(mi)
	var v2, v1 []hierarchy
	for _, line := range lines(cg) {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			for _, m := range mounts {
				if m.fstype == "cgroup2" {
					v2 = append(v2, hierarchy{v2: true, dir: r.cgroupDir(m, parts[2]), mount: r.path(m.point)})
					break
				}
			}
			continue
		}
		if !hasWord(parts[1], controller) {
			continue
		}
		for _, m := range mounts {
			if m.fstype == "cgroup" && hasWord(m.superOptions, controller) {
				v1 = append(v1, hierarchy{dir: r.cgroupDir(m, parts[2]), mount: r.path(m.point)})
				break
			}
		}
	}
	return append(v2, v1...), nil
}

// cgroupDir is the directory of cgroup path p in mount m: the mount may show
// a subtree of the hierarchy (its root field), as in a container that
// mounts its own cgroup; a path outside the mounted subtree (a cgroup
// namespace's view) falls back to the mount point.
func (r Reader) cgroupDir(m mount, p string) string {
	root := path.Clean("/" + m.root)
	p = path.Clean("/" + p)
	rel := ""
	switch {
	case root == "/":
		rel = p
	case p == root:
		rel = "/"
	case strings.HasPrefix(p, root+"/"):
		rel = strings.TrimPrefix(p, root)
	default:
		rel = "/"
	}
	dir := r.path(m.point, rel)
	if _, err := os.Stat(dir); err != nil {
		return r.path(m.point)
	}
	return dir
}

// path joins parts under Root.
func (r Reader) path(parts ...string) string {
	root := r.Root
	if root == "" {
		root = "/"
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

// mount is one line of /proc/PID/mountinfo, the fields this package uses.
type mount struct {
	root, point, fstype, superOptions string
}

// parseMountinfo reads /proc/PID/mountinfo lines:
// "ID parent major:minor root mount-point options [optional…] - fstype source super-options".
func parseMountinfo(b []byte) []mount {
	var out []mount
	for _, line := range lines(b) {
		f := strings.Fields(line)
		sep := -1
		for i, w := range f {
			if w == "-" && i >= 6 {
				sep = i
				break
			}
		}
		if sep < 0 || len(f) < sep+3 {
			continue
		}
		m := mount{root: unescape(f[3]), point: unescape(f[4]), fstype: f[sep+1]}
		if len(f) > sep+3 {
			m.superOptions = f[sep+3]
		}
		out = append(out, m)
	}
	return out
}

// unescape decodes the octal escapes (\040 for a space) mountinfo uses.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// hasWord reports whether the comma-separated list holds w.
func hasWord(list, w string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == w {
			return true
		}
	}
	return false
}

// lines splits b into non-empty lines.
func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}
