package caddydjango

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
)

// `ready` checks of processes (tcp HOST:PORT, unix PATH, http URL) and
// `before_release` processes: started, and ready, before the release
// commands run (a database the plugin runs, which `migrate` needs).

// readyKinds are the kinds of `ready` check.
var readyKinds = []string{"tcp", "unix", "http"}

// parseReady checks a `ready` value: "tcp HOST:PORT", "unix PATH" or
// "http URL".
func parseReady(kind, target string) error {
	switch kind {
	case "tcp":
		if _, port, err := net.SplitHostPort(target); err != nil || port == "" {
			return fmt.Errorf("ready tcp %q: want HOST:PORT, e.g. ready tcp 127.0.0.1:5432", target)
		}
	case "unix":
		if target == "" {
			return errors.New("ready unix needs a socket path")
		}
	case "http":
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("ready http %q: want a URL, e.g. ready http http://127.0.0.1:9200/", target)
		}
	default:
		return fmt.Errorf("unknown ready kind %q (want tcp HOST:PORT, unix PATH or http URL)", kind)
	}
	return nil
}

// checkReadyOnce tries the check once: a connection (tcp, unix) or any
// HTTP answer below 500 (http).
func checkReadyOnce(ctx context.Context, kind, target string) error {
	if kind == "http" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return err
		}
		resp, err := readyClient.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			return fmt.Errorf("%s answered %s", target, resp.Status)
		}
		return nil
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, kind, target)
	if err != nil {
		return err
	}
	return conn.Close()
}

var readyClient = &http.Client{
	Transport:     &http.Transport{DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// retryProbe tries until try succeeds or timeout passes, with a growing
// pause (20ms to 250ms) between tries.
func retryProbe(ctx context.Context, timeout time.Duration, try func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 20 * time.Millisecond
	for {
		err := try(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s: %v", timeout, err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}

// awaitLine waits until loaded is closed (the program printed line), at
// most timeout.
func awaitLine(ctx context.Context, loaded <-chan struct{}, line string, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-loaded:
		return nil
	case <-t.C:
		return fmt.Errorf("no %q in its output after %v", line, timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readyProbe is the check that must pass, besides startsecs, before inst
// counts as started: Gunicorn's private HTTP probe, a process's `ready`
// check, or nil.
func (p *process) readyProbe(inst *instance) func(context.Context) error {
	if inst.probeAddr != "" {
		return func(ctx context.Context) error {
			return probeHTTP(ctx, inst.probeAddr, p.spec.ReadyPath, p.spec.probeRequest(), p.spec.ReadyTimeout)
		}
	}
	if s := p.spec; s.ReadyLine != "" {
		return func(ctx context.Context) error {
			if err := awaitLine(ctx, inst.loaded, s.ReadyLine, s.ReadyTimeout); err != nil || s.ReadyPath == "" || s.Bind.network != "tcp" {
				return err
			}
			// no private socket: the path is asked on the held one
			return probeHTTP(ctx, s.Bind.addr, s.ReadyPath, nil, s.ReadyTimeout)
		}
	}
	kind, target, ok := strings.Cut(p.spec.Ready, " ")
	if !ok {
		return nil
	}
	return func(ctx context.Context) error {
		return retryProbe(ctx, p.spec.ReadyTimeout, func(ctx context.Context) error { return checkReadyOnce(ctx, kind, target) })
	}
}

// startBeforeRelease starts the before_release entries of fresh and, when
// wait, waits until they are RUNNING, at most release_timeout; one that is
// not is stopped and the error says why. It returns the other entries.
func (a *App) startBeforeRelease(ctx context.Context, fresh []*entry, wait bool) (rest []*entry, err error) {
	var first []*entry
	for _, e := range fresh {
		if s := e.proc().spec; s.BeforeRelease && !s.Disabled {
			first = append(first, e)
		} else {
			rest = append(rest, e)
		}
	}
	startInOrder(first)
	if !wait {
		return rest, nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(a.ReleaseTimeout))
	defer cancel()
	for _, e := range first {
		p := e.proc()
		if werr := p.waitRunning(ctx); werr != nil {
			err = fmt.Errorf("before_release process %s did not get ready, so the release commands did not run: %v", p.spec.Name, werr)
			a.logger.Error("boot failed", zap.Error(err))
			p.stop()
			failAll([]*entry{e}, err)
			return rest, err
		}
	}
	return rest, nil
}

// failAll marks the entries' processes FATAL with err (a failed boot), each
// with an error entry: they are given up, not started.
func failAll(es []*entry, err error) {
	reason, _, _ := strings.Cut(err.Error(), "\n") // a release's output is in its own entry
	for _, e := range es {
		p := e.proc()
		if p.spec.Disabled {
			continue
		}
		p.log().Error("process is FATAL: not started", zap.String("reason", reason))
		p.setState(StateFatal, func() { p.lastErr = err.Error() })
		if p.onFatal != nil {
			p.onFatal(p)
		}
	}
}

// errNotReadiness: the option is not before_release or ready.
var errNotReadiness = errors.New("not a readiness option")

// unmarshalReadiness parses `before_release` and `ready <kind> <target>`
// at the dispenser's cursor, or returns errNotReadiness.
func (p *ProcessConfig) unmarshalReadiness(d *caddyfile.Dispenser) error {
	switch d.Val() {
	case "before_release":
		if d.NextArg() {
			return d.Errf("before_release takes no value, got %q", d.Val())
		}
		p.BeforeRelease = true
	case "ready":
		args := d.RemainingArgs()
		if len(args) != 2 {
			return d.Err("ready needs a kind and a target: tcp HOST:PORT, unix PATH or http URL")
		}
		if err := parseReady(args[0], args[1]); err != nil {
			return d.Err(err.Error())
		}
		p.Ready = args[0] + " " + args[1]
	default:
		return errNotReadiness
	}
	return nil
}
