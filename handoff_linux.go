package caddydjango

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// listenSteered binds, beside the socket Caddy bound for addr, one
// SO_REUSEPORT socket per CPU with SO_INCOMING_CPU set to that CPU. Since
// Linux 6.2 the kernel gives a new connection to a socket of the group whose
// incoming CPU is the CPU handling it, so with every CPU covered the sockets
// Caddy binds per config receive no connection, and closing them resets none.
func listenSteered(addr net.Addr) ([]net.Listener, error) {
	var out []net.Listener
	fail := func(err error) ([]net.Listener, error) {
		for _, ln := range out {
			_ = ln.Close()
		}
		return nil, err
	}
	for _, cpu := range possibleCPUs() {
		lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
				if serr == nil {
					serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_INCOMING_CPU, cpu)
				}
			})
			if err != nil {
				return err
			}
			return serr
		}}
		ln, err := lc.Listen(context.Background(), addr.Network(), addr.String())
		if err != nil {
			return fail(fmt.Errorf("CPU %d: %w", cpu, err))
		}
		out = append(out, ln)
	}
	return out, nil
}

// possibleCPUs lists the CPUs the kernel may run on (a connection is handled
// on any of them, whatever this process's affinity).
func possibleCPUs() []int {
	data, err := os.ReadFile("/sys/devices/system/cpu/possible")
	var cpus []int
	if err == nil {
		for _, part := range strings.Split(strings.TrimSpace(string(data)), ",") {
			lo, hi, found := strings.Cut(part, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if found {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || b < a || b > 4096 {
				cpus = nil
				break
			}
			for c := a; c <= b; c++ {
				cpus = append(cpus, c)
			}
		}
	}
	if len(cpus) == 0 {
		for c := range runtime.NumCPU() {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

// waitReadable waits, at most wait, until c has bytes to read (or the peer
// closed), without consuming them.
func waitReadable(c net.Conn, wait time.Duration) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	var b [1]byte
	peek := func(fd uintptr) bool {
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		return err != unix.EAGAIN && err != unix.EINTR
	}
	// Usually the bytes are there already: no deadline to set and clear.
	done := false
	if rc.Control(func(fd uintptr) { done = peek(fd) }) != nil || done {
		return
	}
	if c.SetReadDeadline(time.Now().Add(wait)) != nil {
		return
	}
	_ = rc.Read(peek)
	_ = c.SetReadDeadline(time.Time{})
}
