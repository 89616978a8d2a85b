package caddydjango

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Readiness: when a process counts as started (StartSecs, and for an app
// server an HTTP answer on its generation's own socket or its startup line),
// and waiting until it is RUNNING.

// waitRunning blocks until the process is RUNNING. It fails when ctx ends or
// the process can no longer become RUNNING (FATAL, EXITED, STOPPED).
func (p *process) waitRunning(ctx context.Context) error {
	for {
		state, changed, err := p.readiness()
		if state == StateRunning || err != nil {
			return err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%s is not running yet (%s): %w", p.spec.Name, state, ctx.Err())
		}
	}
}

// readiness returns the state, a channel closed at its next change, and an
// error when the process can no longer become RUNNING.
func (p *process) readiness() (string, <-chan struct{}, error) {
	state, changed := p.snapshot()
	switch state {
	case StateFatal, StateExited:
		if reason := p.status().LastError; reason != "" {
			return state, changed, fmt.Errorf("%s is %s: %s", p.spec.Name, state, reason)
		}
		return state, changed, fmt.Errorf("%s is %s (%s)", p.spec.Name, state, p.status().LastExit)
	case StateDisabled:
		return state, changed, fmt.Errorf("%s is disabled (enabled false)", p.spec.Name)
	case StateStopped:
		if p.started.Load() && p.stopping() {
			return state, changed, fmt.Errorf("%s is stopped", p.spec.Name)
		}
	}
	return state, changed, nil
}

// awaitStarted waits until inst counts as started: StartSecs passed and its
// ready check passed (Gunicorn: an HTTP answer on its private probe
// socket; a process: its `ready` check). stopped reports a
// stop request (the program was stopped and the loop must end).
func (p *process) awaitStarted(inst *instance) (ok, stopped bool) {
	check := p.readyProbe(inst)
	if p.spec.StartSecs == 0 && check == nil {
		return true, false // supervisord: startsecs 0 means RUNNING at once
	}
	ready := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		t := time.NewTimer(p.spec.StartSecs)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			ready <- ctx.Err()
			return
		}
		ready <- nil
	}()
	var probe <-chan error
	if check != nil {
		ch := make(chan error, 1)
		probe = ch
		go func() { ch <- check(ctx) }()
	}
	timerDone := false
	for {
		select {
		case <-inst.exited:
			p.recordExit(inst)
			p.recordFailedStart(inst)
			if p.stopping() {
				p.setState(StateStopped, nil)
				return false, true
			}
			return false, false
		case <-p.stopReq:
			p.terminate(inst)
			p.setState(StateStopped, nil)
			return false, true
		case err := <-ready:
			if err != nil {
				continue
			}
			timerDone = true
			ready = nil
			if probe == nil {
				return true, false
			}
		case err := <-probe:
			probe = nil
			if err != nil {
				p.setState(StateStarting, func() { p.lastErr = err.Error() })
				p.log().Error("process did not get ready in time; stopping it", zap.Error(err))
				p.terminate(inst)
				return false, p.stopping()
			}
			if timerDone {
				return true, false
			}
		}
		if timerDone && probe == nil {
			return true, false
		}
	}
}

// Requests the server answers itself (400 Bad Request) once a worker has
// loaded the app and accepts: Django sees nothing. Gunicorn's workers and
// hypercorn reject an invalid request line quietly; uvicorn (and
// Gunicorn's UvicornWorker) logs a traceback for that, but answers an
// upgrade to an unknown protocol with a one-line warning.
var (
	badRequestLine = []byte("caddy-django readiness probe\r\n\r\n")
	singleWordLine = []byte("caddy-django-readiness-probe\r\n\r\n")
	unknownUpgrade = []byte("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: caddy-django-probe\r\n\r\n")
)

// probeHTTP waits until an HTTP server answers at addr (any status counts).
// Without a path it sends raw, a request the server answers itself.
func probeHTTP(ctx context.Context, addr, path string, raw []byte, timeout time.Duration) error {
	try := func(ctx context.Context) error { return probeRawOnce(ctx, addr, raw) }
	if path != "" {
		// readyClient: no keep-alive, no redirects; retryProbe's context bounds the time
		try = func(ctx context.Context) error { return probeGetOnce(ctx, readyClient, addr, path) }
	}
	if err := retryProbe(ctx, timeout, try); err != nil {
		return fmt.Errorf("no HTTP answer: %v", err)
	}
	return nil
}

// probeGetOnce sends GET path (Host: localhost) and reads the answer.
func probeGetOnce(ctx context.Context, client *http.Client, addr, path string) error {
	if network, address := dialAddress(addr); network == "unix" {
		client = unixClient(client, address)
		addr = "localhost"
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	req.Host = "localhost"
	req.Header.Set("User-Agent", "caddy-django readiness probe")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return nil
}

// probeRawOnce sends raw and wants an HTTP answer.
func probeRawOnce(ctx context.Context, addr string, raw []byte) error {
	network, address := dialAddress(addr)
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write(raw); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return err
	}
	if string(buf) != "HTTP/" {
		return fmt.Errorf("not an HTTP answer: %q", buf)
	}
	return nil
}

// dialAddress splits an address as reverse_proxy writes it ("unix//path"
// or "host:port") into a network and an address for a dialer.
func dialAddress(addr string) (network, address string) {
	if path, ok := strings.CutPrefix(addr, "unix/"); ok {
		return "unix", path
	}
	return "tcp", addr
}

// unixClient is client dialing the unix socket at path whatever the URL.
func unixClient(client *http.Client, path string) *http.Client {
	t := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &http.Client{Transport: t, CheckRedirect: client.CheckRedirect}
}

// waitReplacement waits until p, a new app server that replaces a serving
// one, is RUNNING: at most its ready timeout and start seconds, plus 5s.
func waitReplacement(ctx context.Context, p *process) error {
	ctx, cancel := context.WithTimeout(ctx, p.spec.ReadyTimeout+p.spec.StartSecs+5*time.Second)
	defer cancel()
	if err := p.waitRunning(ctx); err != nil {
		return fmt.Errorf("new %s did not start, the running one keeps serving: %v", p.spec.Name, err)
	}
	return nil
}
