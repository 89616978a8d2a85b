// Package testkit holds what the end-to-end tests and the benchmark both
// need: reading processes from Linux's /proc, copying the demo project and
// a load generator.
// The benchmark is a separate main package and cannot import the tests'
// _test.go helpers; nothing in the plugin imports this package.
package testkit

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Stat reads /proc/PID/stat: the command name (without parentheses) and
// the fields after it: [0] state, [1] parent pid, [11] utime, [12] stime,
// [13] cutime, [14] cstime (clock ticks).
func Stat(pid int) (comm string, fields []string, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", nil, false
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open || end+2 > len(s) {
		return "", nil, false
	}
	return s[open+1 : end], strings.Fields(s[end+2:]), true
}

// PIDs lists the pids in /proc.
func PIDs() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// Alive reports whether pid is a process that has not exited (zombies
// have).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	_, f, ok := Stat(pid)
	return ok && (len(f) == 0 || (f[0] != "Z" && f[0] != "X"))
}

// Descendants lists the live processes below pid.
func Descendants(pid int) []int {
	children := map[int][]int{}
	for _, p := range PIDs() {
		_, f, ok := Stat(p)
		if ok && len(f) > 1 && f[0] != "Z" {
			pp, _ := strconv.Atoi(f[1])
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(pid)
	return out
}

// CopyTree copies the directory src to dst, keeping symlinks as symlinks
// and leaving out every file or directory whose name skip reports.
func CopyTree(src, dst string, skip func(name string) bool) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if path != src && skip(info.Name()) {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case info.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, info.Mode().Perm())
		}
	})
}

// Hammer runs threads clients, each sending GET url on a new connection
// (like Python's urllib in the baseline measurements) in a loop, reading
// every body whole. After each request it calls each with the status (0
// when no HTTP answer came), the error (connecting, or reading the answer)
// and the time taken; each may be called concurrently. The returned stop
// ends the clients and returns when they have all ended.
func Hammer(url string, threads int, each func(status int, err error, took time.Duration)) (stop func()) {
	return Clients{}.Run(url, threads, each)
}

// Ports come from below Linux's ephemeral range (32768-60999), which the
// load generators' many outgoing connections use, and each is handed out
// once per process: Caddy listens with SO_REUSEPORT, so two listeners given
// the same port would both bind it and silently share each other's
// requests (an admin request answered by another test's Caddy). They are
// picked at random, not in sequence: test binaries running at the same
// time (scripts/test.sh runs two, and go test runs packages side by side)
// walking the same sequence would each hand out a port the other had just
// found free and not bound yet.
var (
	portMu   sync.Mutex
	usedPort = map[int]bool{}
)

// FreePort returns a loopback TCP port that was free a moment ago and that
// was not returned before in this process.
func FreePort() (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	for range 12000 {
		p := 20000 + rand.IntN(12000)
		if usedPort[p] {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		ln.Close()
		usedPort[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("no free TCP port in 20000-31999")
}

// SetEnv returns env with key set to val (any earlier value of key
// removed).
func SetEnv(env []string, key, val string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+val)
}
