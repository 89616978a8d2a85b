//go:build linux

package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// --- a bucket "on its own machine": a network namespace behind a link -----

// netLink is a network namespace joined to the driver's by a veth pair on
// a private /30, with a token-bucket rate limit (tbf) on both ends, and a
// CPU of its own: what runs inside it (started with wrap) stands for a
// server on another machine, reached over a network link of a given rate.
// Its names carry the run's work directory suffix (run.sh's mktemp), so
// two runs never collide and run.sh can remove them after a killed driver.
type netLink struct {
	ns, hostIf, nsIf string
	hostIP, nsIP     string
	rate             string // tc's rate, e.g. "2gbit"
	bitsPerSec       float64
	burst            int    // tbf's bucket, bytes
	cpu              string // the namespace's CPU
	others           string // the CPUs left for the client and Caddy
	once             sync.Once
}

// linkSuffix is the run's unique suffix: run.sh's work directory is
// mktemp's /tmp/caddy-django-bench.XXXXXX (run.sh removes
// cdbench-XXXXXX and cdbXXXXXXh on exit); random for any other.
func linkSuffix(work string) string {
	s := strings.TrimPrefix(filepath.Ext(work), ".")
	if !regexp.MustCompile(`^[A-Za-z0-9]{1,6}$`).MatchString(s) {
		var r [3]byte
		_, _ = rand.Read(r[:])
		s = hex.EncodeToString(r[:])
	}
	return s
}

// parseRate reads tc's rate forms: 2gbit, 1500mbit, 100kbit, 1000000bit.
func parseRate(s string) (float64, error) {
	m := regexp.MustCompile(`^([0-9.]+)([kmg]?)bit$`).FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return 0, fmt.Errorf("link rate %q: want e.g. 2gbit, 1500mbit", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("link rate %q: want a positive number", s)
	}
	return v * map[string]float64{"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m[2]], nil
}

// newNetLink creates the namespace and the link. It needs root, ip and
// tc, and at least 2 CPUs; the error says which is missing. On error,
// whatever was created is removed.
func newNetLink(work, rate string) (l *netLink, err error) {
	bps, err := parseRate(rate)
	if err != nil {
		return nil, err
	}
	n := runtime.NumCPU()
	switch {
	case os.Geteuid() != 0:
		return nil, errors.New("network namespaces need root (the driver runs as uid " + strconv.Itoa(os.Geteuid()) + ")")
	case n < 2:
		return nil, errors.New("one CPU: the bucket cannot have a CPU of its own")
	}
	for _, tool := range []string{"ip", "tc", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s is not installed (apt-get install -y iproute2 util-linux)", tool)
		}
	}
	sfx := linkSuffix(work)
	l = &netLink{ns: "cdbench-" + sfx, hostIf: "cdb" + sfx + "h", nsIf: "cdb" + sfx + "b",
		rate: rate, bitsPerSec: bps, cpu: strconv.Itoa(n - 1), others: "0"}
	if n > 2 {
		l.others = fmt.Sprintf("0-%d", n-2)
	}
	// the bucket: rate × 4 ms, at least 4 segments of 64 KiB (veth hands
	// tbf GSO packets up to 64 KiB; tbf splits larger ones): as much as
	// the rate brings in one tick at HZ=250 (tc-tbf(8): burst ≥ rate/HZ)
	l.burst = max(int(bps/8*0.004), 4*64<<10)
	if l.hostIP, l.nsIP, err = freeSubnet(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			l.close()
			l = nil
		}
	}()
	steps := [][]string{
		{"ip", "netns", "add", l.ns},
		{"ip", "link", "add", l.hostIf, "type", "veth", "peer", "name", l.nsIf, "netns", l.ns},
		{"ip", "addr", "add", l.hostIP + "/30", "dev", l.hostIf},
		{"ip", "link", "set", l.hostIf, "up"},
		{"ip", "-n", l.ns, "addr", "add", l.nsIP + "/30", "dev", l.nsIf},
		{"ip", "-n", l.ns, "link", "set", l.nsIf, "up"},
		{"ip", "-n", l.ns, "link", "set", "lo", "up"},
	}
	for _, dev := range [][]string{{"tc", "qdisc", "add", "dev", l.hostIf}, {"tc", "-n", l.ns, "qdisc", "add", "dev", l.nsIf}} {
		steps = append(steps, append(dev, "root", "tbf", "rate", rate, "burst", strconv.Itoa(l.burst), "latency", "20ms"))
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return l, fmt.Errorf("%s: %v: %s", strings.Join(s, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return l, nil
}

// freeSubnet picks a /30 in 10.213.0.0/16 that no interface here uses.
func freeSubnet() (host, ns string, err error) {
	out, err := exec.Command("ip", "-o", "-4", "addr", "show").Output()
	if err != nil {
		return "", "", fmt.Errorf("ip addr show: %v", err)
	}
	for range 64 {
		i, _ := rand.Int(rand.Reader, big.NewInt(1<<14))
		base := int(i.Int64()) * 4
		pfx := fmt.Sprintf("10.213.%d.", base>>8)
		used := false
		for k := 0; k < 4; k++ {
			if strings.Contains(string(out), fmt.Sprintf(" %s%d/", pfx, base&255+k)) {
				used = true
			}
		}
		if !used {
			return fmt.Sprintf("%s%d", pfx, base&255+1), fmt.Sprintf("%s%d", pfx, base&255+2), nil
		}
	}
	return "", "", errors.New("no free /30 in 10.213.0.0/16")
}

// wrap is argv run inside the namespace on its CPU (ip netns exec and
// taskset exec it: the pid is argv's own).
func (l *netLink) wrap(argv ...string) []string {
	return append([]string{"ip", "netns", "exec", l.ns, "taskset", "-c", l.cpu}, argv...)
}

// pin is argv run on the other CPUs.
func (l *netLink) pin(argv ...string) []string {
	return append([]string{"taskset", "-c", l.others}, argv...)
}

// bytesPerSec is the link's rate in bytes per second.
func (l *netLink) bytesPerSec() float64 { return l.bitsPerSec / 8 }

// close removes the namespace and the veth pair (stop what runs inside
// first: a process keeps its namespace alive). Safe to call twice.
func (l *netLink) close() {
	l.once.Do(func() {
		_ = exec.Command("ip", "link", "del", l.hostIf).Run() // takes its peer along
		_ = exec.Command("ip", "netns", "del", l.ns).Run()
	})
}
