//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// proc is a process the driver started. Every one runs in its own process
// group and carries the run's marker variable in its environment, so that
// cleanup (here and in run.sh) finds it, and its descendants, by pid.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

type procs struct {
	mu     sync.Mutex
	list   []*proc
	marker string // NAME=VALUE
	logDir string
	seq    int
	atExit []func() // run by stopAll after the processes stopped, last first
}

// onExit has stopAll (the end of the run, or a signal) run fn: state
// outside processes (a network namespace) that a section's defer would
// not undo when the driver exits on a signal.
func (ps *procs) onExit(fn func()) {
	ps.mu.Lock()
	ps.atExit = append(ps.atExit, fn)
	ps.mu.Unlock()
}

func (ps *procs) spawn(name, dir string, env []string, argv ...string) (*proc, error) {
	ps.mu.Lock()
	ps.seq++
	logPath := filepath.Join(ps.logDir, fmt.Sprintf("%02d-%s.log", ps.seq, name))
	ps.mu.Unlock()
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, env...), ps.marker)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process (not its group: Caddy and supervisord
// stop their children themselves), waits up to grace, then SIGKILLs it and
// every descendant that is still there.
func (ps *procs) stop(p *proc, grace time.Duration) {
	if p == nil || p.exited() {
		return
	}
	kids := testkit.Descendants(p.pid())
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	// children that outlived their parent (they were ours)
	deadline := time.Now().Add(5 * time.Second)
	for _, k := range kids {
		for testkit.Alive(k) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if testkit.Alive(k) && ps.isOurs(k) {
			_ = syscall.Kill(k, syscall.SIGKILL)
		}
	}
}

func (ps *procs) stopAll() {
	ps.mu.Lock()
	list := append([]*proc{}, ps.list...)
	ps.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		ps.stop(list[i], 40*time.Second)
	}
	ps.sweep()
	ps.mu.Lock()
	fns := ps.atExit
	ps.atExit = nil
	ps.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

func (ps *procs) isOurs(pid int) bool {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false
	}
	for _, kv := range bytes.Split(env, []byte{0}) {
		if string(kv) == ps.marker {
			return true
		}
	}
	return false
}

// sweep SIGKILLs every process that carries this run's marker.
func (ps *procs) sweep() {
	self := os.Getpid()
	for _, pid := range testkit.PIDs() {
		if pid != self && ps.isOurs(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// --- /proc helpers ------------------------------------------------------

// memKB returns VmRSS and Pss (smaps_rollup) of pid in KiB.
func memKB(pid int) (rss, pss int) {
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%d", &rss)
			}
		}
	}
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "Pss:") {
				fmt.Sscanf(strings.TrimPrefix(line, "Pss:"), "%d", &pss)
			}
		}
	}
	return
}

// cpuTicks is the CPU time (user+system, including reaped children) of pid.
func cpuTicks(pid int) int64 {
	_, f, _ := testkit.Stat(pid)
	if len(f) < 15 {
		return 0
	}
	var sum int64
	for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime
		n, _ := strconv.ParseInt(f[i], 10, 64)
		sum += n
	}
	return sum
}

// cpuMeter estimates how much CPU processes that are not ours used during
// a section (other jobs on a shared machine skew every number here).
type cpuMeter struct {
	busy0, total0, ours0 int64
	start                time.Time
	load0                string
}

func machineTicks() (busy, total int64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line := strings.SplitN(string(data), "\n", 2)[0]
	f := strings.Fields(line)[1:]
	for i, s := range f {
		n, _ := strconv.ParseInt(s, 10, 64)
		if i >= 8 { // guest, guest_nice are already in user/nice
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return
}

func oursTicks() int64 {
	self := os.Getpid()
	sum := cpuTicks(self)
	for _, p := range testkit.Descendants(self) {
		sum += cpuTicks(p)
	}
	return sum
}

func loadavg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 1 {
		return "?"
	}
	return f[0]
}

func newCPUMeter() *cpuMeter {
	m := &cpuMeter{start: time.Now(), load0: loadavg()}
	m.busy0, m.total0 = machineTicks()
	m.ours0 = oursTicks()
	return m
}

// foreign returns the share of the machine (0-100 %) used by other
// processes since the meter started.
func (m *cpuMeter) foreign() float64 {
	busy, total := machineTicks()
	ours := oursTicks()
	dt := total - m.total0
	if dt <= 0 {
		return 0
	}
	other := (busy - m.busy0) - (ours - m.ours0)
	if other < 0 {
		other = 0
	}
	return 100 * float64(other) / float64(dt)
}

// freePort returns a loopback TCP port that was free a moment ago and was
// not returned before (see testkit.FreePort).
func freePort() int {
	p, err := testkit.FreePort()
	if err != nil {
		panic(err)
	}
	return p
}
