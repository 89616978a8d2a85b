//go:build unix

package testkit

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// HAProxy is a real HAProxy (Debian's `haproxy`) run in the foreground with
// a config of the caller's, plus a global section that opens its admin
// socket (for the servers' health states).
type HAProxy struct {
	Dir string // its temporary directory: the config, the admin socket
	cmd *exec.Cmd
	mu  sync.Mutex
	out bytes.Buffer
	end chan struct{}
}

// StartHAProxy runs HAProxy with sections (defaults, frontend, backend…;
// no global section: StartHAProxy writes it) and returns once it runs.
// Stop ends it.
func StartHAProxy(sections string) (*HAProxy, error) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		return nil, errors.New("no haproxy: install with `sudo apt-get install -y haproxy`")
	}
	dir, err := os.MkdirTemp("", "caddy-django-haproxy-")
	if err != nil {
		return nil, err
	}
	h := &HAProxy{Dir: dir, end: make(chan struct{})}
	cfg := filepath.Join(dir, "haproxy.cfg")
	global := fmt.Sprintf("global\n\tstats socket %s level admin\n\tmaxconn 2000\n\n", h.socket())
	if err := os.WriteFile(cfg, []byte(global+sections), 0o644); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	// -db: in the foreground, not a daemon
	h.cmd = exec.Command(bin, "-f", cfg, "-db")
	h.cmd.Stdout, h.cmd.Stderr = h.writer(), h.writer()
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := h.cmd.Start(); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	go func() {
		_ = h.cmd.Wait()
		close(h.end)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := h.Command("show info"); err == nil {
			return h, nil
		}
		select {
		case <-h.end:
			out := h.Output()
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("haproxy exited at start: %s", out)
		default:
		}
		if time.Now().After(deadline) {
			h.Stop()
			return nil, fmt.Errorf("haproxy's admin socket did not answer within 30s: %s", h.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *HAProxy) socket() string { return filepath.Join(h.Dir, "admin.sock") }

type lockedWriter struct{ h *HAProxy }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	return w.h.out.Write(b)
}

func (h *HAProxy) writer() io.Writer { return lockedWriter{h} }

// Output is what HAProxy printed (its alerts and warnings).
func (h *HAProxy) Output() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.out.String()
}

// Command sends one command to the admin socket and returns the answer.
func (h *HAProxy) Command(cmd string) (string, error) {
	c, err := net.DialTimeout("unix", h.socket(), 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// ServerStatus is the status HAProxy gives server in backend ("UP", "DOWN",
// "UP 1/2" while rising, "MAINT"...), from `show stat`.
func (h *HAProxy) ServerStatus(backend, server string) (string, error) {
	out, err := h.Command("show stat")
	if err != nil {
		return "", err
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# "))).ReadAll()
	if err != nil || len(rows) == 0 {
		return "", fmt.Errorf("show stat: %v: %q", err, out)
	}
	col := -1
	for i, name := range rows[0] {
		if name == "status" {
			col = i
		}
	}
	for _, r := range rows[1:] {
		if len(r) > col && col >= 0 && r[0] == backend && r[1] == server {
			return r[col], nil
		}
	}
	return "", fmt.Errorf("no server %s/%s in show stat", backend, server)
}

// Stop ends HAProxy and removes its directory.
func (h *HAProxy) Stop() {
	_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
	<-h.end
	_ = os.RemoveAll(h.Dir)
}
