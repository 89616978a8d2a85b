package testkit

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"sync"
	"time"
)

// Clients are the ways a reload test connects: a new connection per request
// (as Hammer), or one kept-alive connection per client thread.
type Clients struct {
	KeepAlive bool // one Transport per thread, connections reused
	HTTP2     bool // negotiate HTTP/2 over TLS
	Method    string
	Body      []byte // sent with every request (POST: a request Go never retries on a reused connection)
}

// Run sends requests to url from threads clients until stop is called, and
// calls each after every request as Hammer does.
func (c Clients) Run(url string, threads int, each func(status int, err error, took time.Duration)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := c.client()
			for {
				select {
				case <-done:
					client.CloseIdleConnections()
					return
				default:
				}
				start := time.Now()
				status, err := c.do(client, url)
				each(status, err, time.Since(start))
				if !c.KeepAlive {
					client.CloseIdleConnections()
				}
			}
		}()
	}
	return func() {
		close(done)
		wg.Wait()
	}
}

func (c Clients) client() *http.Client {
	tr := &http.Transport{
		DisableKeepAlives:   !c.KeepAlive && !c.HTTP2,
		MaxIdleConnsPerHost: 1,
		ForceAttemptHTTP2:   c.HTTP2,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, // Caddy's internal issuer
	}
	if !c.HTTP2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Timeout: 60 * time.Second, Transport: tr}
}

func (c Clients) do(client *http.Client, url string) (int, error) {
	method := c.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if c.Body != nil {
		body = bytes.NewReader(c.Body)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}
