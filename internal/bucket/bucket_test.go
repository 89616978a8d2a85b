//go:build linux

package bucket

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// These tests run against a real S3 server (versitygw, which checks
// signatures), started per test on loopback.

var (
	serverOnce sync.Once
	server     *testkit.S3Server
	serverErr  error
	serverDir  string
)

// s3 returns the package's S3 server (started on first use) and a client
// for a fresh bucket on it.
func s3(t *testing.T) (*testkit.S3Server, *Client) {
	t.Helper()
	serverOnce.Do(func() {
		if serverDir, serverErr = os.MkdirTemp("", "bucket-test"); serverErr == nil {
			server, serverErr = testkit.StartS3Server(filepath.Join(serverDir, "buckets"))
		}
	})
	if serverErr != nil {
		t.Fatalf("S3 server: %v", serverErr)
	}
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 50 {
		name = name[:50]
	}
	c := newClient(t, server, "b-"+strings.Trim(name, "-"), server.SecretKey)
	if err := c.CreateBucket(context.Background()); err != nil {
		t.Fatalf("creating the bucket: %v", err)
	}
	return server, c
}

func newClient(t *testing.T, s *testkit.S3Server, bucket, secret string) *Client {
	t.Helper()
	c, err := New(Config{Endpoint: s.URL, Region: s.Region, Bucket: bucket, PathStyle: true,
		AccessKey: s.AccessKey, SecretKey: secret, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server != nil {
		server.Stop()
	}
	if serverDir != "" {
		os.RemoveAll(serverDir)
	}
	os.Exit(code)
}

func put(t *testing.T, c *Client, key string, body []byte, hdr http.Header) {
	t.Helper()
	if err := c.Put(context.Background(), key, body, hdr); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func readObj(t *testing.T, c *Client, method, key string, hdr http.Header) (*Object, []byte) {
	t.Helper()
	obj, err := c.Read(context.Background(), method, key, hdr)
	if err != nil {
		t.Fatalf("%s %s: %v", method, key, err)
	}
	defer obj.Body.Close()
	body, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, key, err)
	}
	return obj, body
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadWholeRangeAndHead(t *testing.T) {
	s, c := s3(t)
	content := randomBytes(t, 300<<10)
	// keys that need percent-encoding must be signed as sent
	for _, key := range []string{"a.bin", "dir/with space+plus%25 é.bin", "x/y/z~(1)!.bin"} {
		put(t, c, key, content, nil)
		obj, body := readObj(t, c, http.MethodGet, key, nil)
		if obj.StatusCode != 200 || !bytes.Equal(body, content) {
			t.Fatalf("GET %q: %d, %d bytes", key, obj.StatusCode, len(body))
		}
		if obj.Header.Get("ETag") == "" || obj.Header.Get("Last-Modified") == "" || obj.Header.Get("Content-Length") != "307200" {
			t.Errorf("GET %q: header %v", key, obj.Header)
		}
	}
	obj, body := readObj(t, c, http.MethodGet, "a.bin", http.Header{"Range": {"bytes=1000-1999"}})
	if obj.StatusCode != 206 || !bytes.Equal(body, content[1000:2000]) || obj.Header.Get("Content-Range") != "bytes 1000-1999/307200" {
		t.Errorf("range: %d, %d bytes, %q", obj.StatusCode, len(body), obj.Header.Get("Content-Range"))
	}
	obj, body = readObj(t, c, http.MethodHead, "a.bin", nil)
	if obj.StatusCode != 200 || len(body) != 0 || obj.Header.Get("Content-Length") != "307200" {
		t.Errorf("HEAD: %d, %d bytes, %v", obj.StatusCode, len(body), obj.Header)
	}
	// one request per read, as the server counts them
	before := s.CountRequests(c.Bucket(), "a.bin")
	sent := c.Requests()
	for range 3 {
		readObj(t, c, http.MethodGet, "a.bin", nil)
	}
	if n := c.Requests() - sent; n != 3 {
		t.Errorf("3 reads sent %d requests", n)
	}
	waitUntil(t, func() bool { return s.CountRequests(c.Bucket(), "a.bin")-before >= 3 }, "the server logs 3 requests")
	if n := s.CountRequests(c.Bucket(), "a.bin") - before; n != 3 {
		t.Errorf("the server saw %d requests for 3 reads", n)
	}
}

func TestConditionalReads(t *testing.T) {
	_, c := s3(t)
	put(t, c, "c.txt", []byte("0123456789"), nil)
	obj, _ := readObj(t, c, http.MethodGet, "c.txt", nil)
	etag, lm := obj.Header.Get("ETag"), obj.Header.Get("Last-Modified")
	for _, tc := range []struct {
		method string
		hdr    http.Header
		want   int
	}{
		{"GET", http.Header{"If-None-Match": {etag}}, 304},
		{"HEAD", http.Header{"If-None-Match": {etag}}, 304},
		{"GET", http.Header{"If-None-Match": {`"other"`}}, 200},
		{"GET", http.Header{"If-Modified-Since": {lm}}, 304},
		{"GET", http.Header{"If-Match": {`"other"`}}, 412},
		{"GET", http.Header{"If-Match": {etag}, "Range": {"bytes=2-3"}}, 206},
		{"GET", http.Header{"Range": {"bytes=100-200"}}, 416},
		{"GET", http.Header{"X-Other": {"not sent"}, "Cookie": {"a=b"}}, 200},
	} {
		obj, body := readObj(t, c, tc.method, "c.txt", tc.hdr)
		if obj.StatusCode != tc.want {
			t.Errorf("%s %v: %d, want %d", tc.method, tc.hdr, obj.StatusCode, tc.want)
		}
		if tc.want == 304 && (obj.Header.Get("ETag") != etag || len(body) != 0) {
			t.Errorf("%s %v: 304 with ETag %q, %d bytes", tc.method, tc.hdr, obj.Header.Get("ETag"), len(body))
		}
	}
}

func TestErrors(t *testing.T) {
	s, c := s3(t)
	ctx := context.Background()
	_, err := c.Read(ctx, http.MethodGet, "missing.png", nil)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 404 || e.Code != "NoSuchKey" || !e.NotFound() {
		t.Errorf("missing key: %v", err)
	}
	if _, err := c.Read(ctx, http.MethodHead, "missing.png", nil); !errors.As(err, &e) || !e.NotFound() {
		t.Errorf("HEAD of a missing key: %v", err)
	}
	nb := newClient(t, s, "no-such-bucket-here", s.SecretKey)
	if _, err := nb.Read(ctx, http.MethodGet, "a", nil); !errors.As(err, &e) || e.Code != "NoSuchBucket" || e.NotFound() {
		t.Errorf("missing bucket: %v", err)
	}
	// a wrong secret is refused by the server, and said so
	put(t, c, "k.txt", []byte("x"), nil)
	bad := newClient(t, s, c.Bucket(), "wrong-secret")
	_, err = bad.Read(ctx, http.MethodGet, "k.txt", nil)
	if !errors.As(err, &e) || e.StatusCode != 403 || e.Code != "SignatureDoesNotMatch" || e.NotFound() {
		t.Errorf("wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") || strings.Contains(err.Error(), s.SecretKey) {
		t.Errorf("the error shows a secret: %v", err)
	}
	if err := bad.Put(ctx, "k2.txt", []byte("x"), nil); !errors.As(err, &e) || e.Code != "SignatureDoesNotMatch" {
		t.Errorf("put with a wrong secret: %v", err)
	}
	if _, err := c.Read(ctx, http.MethodGet, "", nil); err == nil {
		t.Errorf("an empty key was read")
	}
	if _, err := c.Read(ctx, http.MethodPost, "k.txt", nil); err == nil {
		t.Errorf("POST was sent")
	}
}

func TestPresign(t *testing.T) {
	_, c := s3(t)
	put(t, c, "p/photo one.png", []byte("PNG"), nil)
	u, err := c.Presign(http.MethodGet, "p/photo one.png", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "PNG" {
		t.Errorf("presigned GET: %d %q", resp.StatusCode, body)
	}
	resp, err = http.Get(strings.Replace(u, "photo%20one", "photo%20two", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("a presigned URL used for another key: %d", resp.StatusCode)
	}
	if _, err := c.Presign(http.MethodGet, "k", 8*24*time.Hour); err == nil {
		t.Errorf("an 8-day lifetime was accepted")
	}
}

// TestDownAndTimeouts: a bucket that refuses connections fails at once; one
// that does not answer, or stops sending the body, fails after the time-out
// as a time-out; a client that pauses between reads longer than the
// time-out is not cut off.
func TestDownAndTimeouts(t *testing.T) {
	s, c := s3(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	down, _ := New(Config{Endpoint: "http://" + addr, Bucket: "bkt", PathStyle: true, AccessKey: "a", SecretKey: "s", Timeout: 5 * time.Second})
	start := time.Now()
	_, err = down.Read(context.Background(), http.MethodGet, "k", nil)
	if err == nil || IsTimeout(err) || time.Since(start) > 2*time.Second {
		t.Errorf("refused connection: %v after %s", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("refused connection: %v", err)
	}

	// a server that accepts and says nothing; then one that stalls mid-body
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	stall := make(chan struct{})
	defer close(stall)
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 4096)
				n, _ := conn.Read(buf)
				if strings.Contains(string(buf[:n]), "/stall") {
					conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("x", 1000)))
				}
				<-stall
			}()
		}
	}()
	hung, _ := New(Config{Endpoint: "http://" + silent.Addr().String(), Bucket: "bkt", PathStyle: true, AccessKey: "a", SecretKey: "s", Timeout: 500 * time.Millisecond})
	start = time.Now()
	_, err = hung.Read(context.Background(), http.MethodGet, "k", nil)
	if !IsTimeout(err) || time.Since(start) > 3*time.Second {
		t.Errorf("silent bucket: %v after %s", err, time.Since(start))
	}
	obj, err := hung.Read(context.Background(), http.MethodGet, "stall", nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, obj.Body)
	obj.Body.Close()
	if n != 1000 || !IsTimeout(err) {
		t.Errorf("stalled body: %d bytes, %v", n, err)
	}

	// a slow reader of a real object: pauses between reads do not count
	content := randomBytes(t, 2<<20)
	put(t, c, "slow.bin", content, nil)
	slow, _ := New(Config{Endpoint: s.URL, Region: s.Region, Bucket: c.Bucket(), PathStyle: true,
		AccessKey: s.AccessKey, SecretKey: s.SecretKey, Timeout: 2 * time.Second}) // wide: the server is slow on a busy machine
	obj, err = slow.Read(context.Background(), http.MethodGet, "slow.bin", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	buf := make([]byte, 256<<10)
	for i := 0; ; i++ {
		n, err := obj.Body.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("slow reader after %d bytes: %v", got.Len(), err)
		}
		if i == 1 {
			time.Sleep(3 * time.Second) // the client is slow: longer than the time-out
		}
	}
	obj.Body.Close()
	if !bytes.Equal(got.Bytes(), content) {
		t.Errorf("slow reader got %d bytes", got.Len())
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg        Config
		wantErr    string
		host, path string
	}{
		{Config{Bucket: "media", Region: "eu-west-3"}, "", "media.s3.eu-west-3.amazonaws.com", "/k"},
		{Config{Bucket: "media"}, "", "media.s3.us-east-1.amazonaws.com", "/k"},
		{Config{Bucket: "my.media", Endpoint: "https://s3.example.com:443"}, "", "s3.example.com", "/my.media/k"},
		{Config{Bucket: "media", Endpoint: "http://127.0.0.1:9000", PathStyle: true}, "", "127.0.0.1:9000", "/media/k"},
		{Config{Bucket: "media", Endpoint: "http://minio:9000"}, "", "media.minio:9000", "/k"},
		{Config{Bucket: "no spaces"}, "bucket name", "", ""},
		{Config{Bucket: "media", Endpoint: "ftp://x"}, "http:// or https://", "", ""},
		{Config{Bucket: "media", Endpoint: "http://x/path"}, "no path", "", ""},
		{Config{Bucket: "media", Endpoint: "http://user:pw@x"}, "no path, query or user", "", ""},
		{Config{Bucket: "media", AccessKey: "a"}, "secret key", "", ""},
	} {
		c, err := New(tc.cfg)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tc.cfg, err)
			continue
		}
		if u := c.objectURL("k"); u.Host != tc.host || u.Path != tc.path {
			t.Errorf("%+v: URL %s", tc.cfg, u)
		}
	}
	for _, key := range []string{"", strings.Repeat("k", 1025), "a\x00b", "\xff"} {
		if CheckKey(key) == nil {
			t.Errorf("key %q accepted", key)
		}
	}
}

func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCheckPreconditions: conditions the bucket left unevaluated are
// evaluated on its answer, in RFC 9110's order.
func TestCheckPreconditions(t *testing.T) {
	lm := "Mon, 07 Dec 2026 00:47:18 GMT"
	h := http.Header{"Etag": {`"abc"`}, "Last-Modified": {lm}}
	for _, tc := range []struct {
		hdr  http.Header
		want int
	}{
		{http.Header{}, 0},
		{http.Header{"If-None-Match": {`"abc"`}}, 304},
		{http.Header{"If-None-Match": {`W/"abc"`}}, 304},
		{http.Header{"If-None-Match": {`"x", "abc"`}}, 304},
		{http.Header{"If-None-Match": {`*`}}, 304},
		{http.Header{"If-None-Match": {`"x"`}, "If-Modified-Since": {lm}}, 0},
		{http.Header{"If-Modified-Since": {lm}}, 304},
		{http.Header{"If-Modified-Since": {"Mon, 07 Dec 2026 00:47:17 GMT"}}, 0},
		{http.Header{"If-Modified-Since": {"garbage"}}, 0},
		{http.Header{"If-Match": {`"x"`}}, 412},
		{http.Header{"If-Match": {`W/"abc"`}}, 412},
		{http.Header{"If-Match": {`"abc"`}, "If-Unmodified-Since": {"Mon, 07 Dec 2026 00:00:00 GMT"}}, 0},
		{http.Header{"If-Unmodified-Since": {"Mon, 07 Dec 2026 00:00:00 GMT"}}, 412},
		{http.Header{"If-Unmodified-Since": {lm}}, 0},
		{http.Header{"If-Match": {`"abc"`}, "If-None-Match": {`"abc"`}}, 304},
	} {
		if got := checkPreconditions(tc.hdr, h); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.hdr, got, tc.want)
		}
	}
}

// TestFetcher: a presigned URL read by URL, as a key is read (ranges,
// conditions, one request); a redirect is not followed but named.
func TestFetcher(t *testing.T) {
	_, c := s3(t)
	put(t, c, "f/a b.txt", []byte("0123456789"), nil)
	raw, err := c.Presign(http.MethodGet, "f/a b.txt", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	f := &Fetcher{Timeout: 5 * time.Second}
	obj, err := f.Fetch(context.Background(), http.MethodGet, u, http.Header{"Range": {"bytes=2-4"}, "Cookie": {"not=sent"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if obj.StatusCode != 206 || string(body) != "234" {
		t.Errorf("fetch a range: %d %q", obj.StatusCode, body)
	}
	etag := obj.Header.Get("ETag")
	if obj, err := f.Fetch(context.Background(), http.MethodGet, u, http.Header{"If-None-Match": {etag}}); err != nil || obj.StatusCode != 304 {
		t.Errorf("fetch with If-None-Match: %v %v", obj, err)
	}
	redirect := httptest.NewServer(http.RedirectHandler(raw, http.StatusFound))
	defer redirect.Close()
	ru, _ := url.Parse(redirect.URL + "/x")
	_, err = f.Fetch(context.Background(), http.MethodGet, ru, nil)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 302 || e.Location == nil || e.Location.String() != raw {
		t.Errorf("a redirect: %v", err)
	}
}
