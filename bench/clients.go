//go:build linux

package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// --- wrk ----------------------------------------------------------------

type wrkResult struct {
	rps      float64
	requests int64
	errs     string        // non-2xx/3xx and socket errors, "" when none
	p50, p99 time.Duration // latency percentiles (0 when wrk printed none)
}

var (
	reqSecRE   = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	totalRE    = regexp.MustCompile(`(\d+) requests in`)
	non2xxRE   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	sockErrsRE = regexp.MustCompile(`Socket errors: (.*)`)
	latencyRE  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
)

// wrk runs `wrk -t1 -cN -dD` against url with extra headers and an optional
// Lua script.
func (b *bench) wrk(url string, conns int, dur time.Duration, headers []string, script string) (wrkResult, error) {
	return b.wrkOn("", url, conns, dur, headers, script)
}

// wrkOn is wrk on the CPUs cpus (taskset's list; "": any).
func (b *bench) wrkOn(cpus, url string, conns int, dur time.Duration, headers []string, script string) (wrkResult, error) {
	var argv []string
	if cpus != "" {
		argv = []string{"taskset", "-c", cpus}
	}
	argv = append(argv, "wrk", "-t1", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", int(dur.Seconds())), "--timeout", "10s", "--latency")
	for _, h := range headers {
		argv = append(argv, "-H", h)
	}
	if script != "" {
		argv = append(argv, "-s", script)
	}
	argv = append(argv, url)
	out, err := b.runOutput("wrk", argv...)
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	var r wrkResult
	m := reqSecRE.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk: no Requests/sec in output: %s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := totalRE.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	var errs []string
	if m := non2xxRE.FindStringSubmatch(out); m != nil {
		errs = append(errs, m[1]+" non-2xx")
	}
	if m := sockErrsRE.FindStringSubmatch(out); m != nil {
		errs = append(errs, "socket errors: "+strings.TrimSpace(m[1]))
	}
	r.errs = strings.Join(errs, ", ")
	for _, m := range latencyRE.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		d := time.Duration(v * float64(map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]))
		if m[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	return r, nil
}

// runOutput runs a short command as a tracked process and returns its output.
func (b *bench) runOutput(name string, argv ...string) (string, error) {
	p, err := b.ps.spawn(name, b.work, os.Environ(), argv...)
	if err != nil {
		return "", err
	}
	<-p.done
	logPath := p.cmd.Stdout.(*os.File).Name()
	out, _ := os.ReadFile(logPath)
	return string(out), p.err
}

// --- one request, for sanity checks ---------------------------------------

type checkResult struct {
	status   int
	encoding string
	size     int64
	header   http.Header
}

func fetch(url string, headers map[string]string) (checkResult, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return checkResult{}, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true, TLSClientConfig: loopbackTLS}}
	resp, err := c.Do(req)
	if err != nil {
		return checkResult{}, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return checkResult{status: resp.StatusCode, encoding: resp.Header.Get("Content-Encoding"), size: n, header: resp.Header}, err
}

// loopbackTLS accepts the certificates of Caddy's internal issuer (§8's
// HTTPS sites on 127.0.0.1).
var loopbackTLS = &tls.Config{InsecureSkipVerify: true}

// waitHTTP polls url until it answers 200 or the timeout passes.
func waitHTTP(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: loopbackTLS}}
	var last string
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within %s (last: %s)", url, timeout, last)
}

// --- load with a new connection per request (like Python urllib) -----------

type loadResult struct {
	total, ok int64
	httpErrs  map[string]int64 // "502" -> count
	connErrs  map[string]int64 // "reset" -> count
	maxLat    time.Duration
	elapsed   time.Duration
	samples   []string
}

func (r loadResult) httpErrTotal() (n int64) {
	for _, v := range r.httpErrs {
		n += v
	}
	return
}

func (r loadResult) connErrTotal() (n int64) {
	for _, v := range r.connErrs {
		n += v
	}
	return
}

func fmtCounts(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

type load struct {
	url     string
	halt    func()
	mu      sync.Mutex
	res     loadResult
	maxLat  time.Duration
	started time.Time
}

func classify(err error) string {
	s := err.Error()
	switch {
	case errors.Is(err, syscall.ECONNRESET) || strings.Contains(s, "connection reset"):
		return "reset"
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(s, "connection refused"):
		return "refused"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(s, "EOF"):
		return "closed"
	case errors.Is(err, os.ErrDeadlineExceeded) || strings.Contains(s, "Timeout") || strings.Contains(s, "timeout"):
		return "timeout"
	default:
		return "other"
	}
}

// startLoad runs threads clients, each doing GET url on a new connection
// in a loop, until stop.
func startLoad(url string, threads int) *load { return startLoadWith(testkit.Clients{}, url, threads) }

// startLoadWith runs threads clients of kind c on url until stop.
func startLoadWith(c testkit.Clients, url string, threads int) *load {
	l := &load{url: url, started: time.Now()}
	l.res.httpErrs, l.res.connErrs = map[string]int64{}, map[string]int64{}
	l.halt = c.Run(url, threads, func(status int, err error, took time.Duration) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.maxLat = max(l.maxLat, took)
		l.res.total++
		switch {
		case err != nil:
			l.res.connErrs[classify(err)]++
			if len(l.res.samples) < 5 {
				l.res.samples = append(l.res.samples, err.Error())
			}
		case status != 200:
			l.res.httpErrs[strconv.Itoa(status)]++
			if len(l.res.samples) < 5 {
				l.res.samples = append(l.res.samples, fmt.Sprintf("HTTP %d", status))
			}
		default:
			l.res.ok++
		}
	})
	return l
}

func (l *load) okCount() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.res.ok
}

func (l *load) stop() loadResult {
	l.halt()
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.res
	r.maxLat = l.maxLat
	r.elapsed = time.Since(l.started)
	return r
}

// --- slow uploads and latency probes --------------------------------------

type slowResult struct {
	uploadsOK, uploads int
	uploadMax          time.Duration
	probes             []time.Duration // sorted; failed probes count as the probe timeout
	probeFails         int
}

// slowUploads sends n uploads of size bytes to POST /echo-size/ at addr,
// each trickling chunk bytes every interval, and meanwhile probes GET
// /hello/ every probeEvery from probeStart to probeEnd (new connection per
// probe). It returns when everything has finished.
func slowUploads(addr string, n, size, chunk int, interval time.Duration, probeStart, probeEnd, probeEvery time.Duration) slowResult {
	var res slowResult
	var mu sync.Mutex
	var wg sync.WaitGroup
	res.uploads = n
	payload := strings.Repeat("x", chunk)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			ok := func() bool {
				conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					return false
				}
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(90 * time.Second))
				hdr := fmt.Sprintf("POST /echo-size/ HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", addr, size)
				if _, err := conn.Write([]byte(hdr)); err != nil {
					return false
				}
				for sent := 0; sent < size; sent += chunk {
					time.Sleep(interval)
					if _, err := conn.Write([]byte(payload[:min(chunk, size-sent)])); err != nil {
						return false
					}
				}
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					return false
				}
				body, _ := io.ReadAll(resp.Body)
				return resp.StatusCode == 200 && strings.Contains(string(body), fmt.Sprintf(`"size": %d`, size))
			}()
			d := time.Since(t0)
			mu.Lock()
			if ok {
				res.uploadsOK++
			}
			res.uploadMax = max(res.uploadMax, d)
			mu.Unlock()
		}()
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	time.Sleep(probeStart)
	for t := probeStart; t < probeEnd; t += probeEvery {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			resp, err := client.Get("http://" + addr + "/hello/")
			ok := err == nil
			if ok {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ok = resp.StatusCode == 200
			}
			d := time.Since(t0)
			mu.Lock()
			res.probes = append(res.probes, d)
			if !ok {
				res.probeFails++
			}
			mu.Unlock()
		}()
		time.Sleep(probeEvery)
	}
	wg.Wait()
	sort.Slice(res.probes, func(i, j int) bool { return res.probes[i] < res.probes[j] })
	return res
}

func (r slowResult) quantile(q float64) time.Duration {
	if len(r.probes) == 0 {
		return 0
	}
	i := int(q * float64(len(r.probes)-1))
	return r.probes[i]
}

// cancelBurst sends clients×each GET requests to url, each cancelled by
// the client after a random 0-3 ms: like visitors who navigate away, and
// short enough that some are cancelled while Caddy is still dialing
// Gunicorn.
func cancelBurst(url string, clients, each int) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				d := time.Duration((c*7919+i*104729)%3000) * time.Microsecond
				ctx, cancel := context.WithTimeout(context.Background(), d)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if resp, err := client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				cancel()
			}
		}()
	}
	wg.Wait()
}

// drain sends rounds of 32 concurrent GETs to url (waiting for every
// answer, so it leaves nothing behind) until no connection to port other
// than those in keep is open, or the timeout passes. Proxies take idle
// upstream connections from their pool for new requests, so this empties
// the pool a cancelled run left behind. It returns how many are left.
func drain(url string, port int, keep map[string]bool, timeout time.Duration) int {
	left := func() int {
		n := 0
		for c := range establishedTo(port) {
			if !keep[c] {
				n++
			}
		}
		return n
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	for left() > 0 && time.Now().Before(deadline) {
		var wg sync.WaitGroup
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if resp, err := client.Get(url); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		}
		wg.Wait()
		time.Sleep(100 * time.Millisecond)
	}
	return left()
}
