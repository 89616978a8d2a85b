package caddydjango

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/bucket"
	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end tests of django_files serving from an S3 bucket: a real
// Caddy, a real S3 server that checks signatures (versitygw, see
// internal/testkit/s3server.go), objects written as django-storages writes
// them (with the Content-Type the uploader claimed stored on the object).

// startS3 starts an S3 server of the test's own (stopped at its end).
func startS3(t *testing.T) *testkit.S3Server {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end")
	}
	s, err := testkit.StartS3Server(filepath.Join(t.TempDir(), "buckets"))
	if err != nil {
		t.Fatalf("S3 server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// newBucket creates the bucket name on s and returns a client for it.
func newBucket(t *testing.T, s *testkit.S3Server, name string) *bucket.Client {
	t.Helper()
	c, err := bucket.New(bucket.Config{Endpoint: s.URL, Region: s.Region, Bucket: name, PathStyle: true,
		AccessKey: s.AccessKey, SecretKey: s.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateBucket(context.Background()); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
	return c
}

func putObject(t *testing.T, c *bucket.Client, key string, body []byte, contentType string) {
	t.Helper()
	hdr := http.Header{}
	if contentType != "" {
		hdr.Set("Content-Type", contentType)
	}
	if err := c.Put(context.Background(), key, body, hdr); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// bucketMedia is the media line of a django_files site serving
// s3://<name>/<prefix> from s, the secret given as a placeholder.
func bucketMedia(t *testing.T, s *testkit.S3Server, url, name, prefix, extra string) string {
	return fmt.Sprintf("media %s s3://%s/%s {\n%s%s\t\t}", url, name, prefix, bucketOptionLines(t, s), extra)
}

// bucketOptionLines are the bucket options for s, its secret given as a
// placeholder of an environment variable set for the test.
func bucketOptionLines(t *testing.T, s *testkit.S3Server) string {
	env := "CADDY_DJANGO_TEST_S3_SECRET_" + strings.TrimPrefix(s.AccessKey, "AKCADDYDJANGO")
	t.Setenv(env, s.SecretKey)
	return fmt.Sprintf("\t\t\tendpoint %s\n\t\t\tregion %s\n\t\t\taccess_key %s\n\t\t\tsecret_key {env.%s}\n", s.URL, s.Region, s.AccessKey, env)
}

// bucketRequestsFor counts the requests s logged for keys of bucket
// under prefix.
func bucketRequestsFor(s *testkit.S3Server, name, prefix string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Bucket == name && strings.HasPrefix(r.Key, prefix) {
			n++
		}
	}
	return n
}

// TestBucketMediaServedSafely: uploads in a bucket are served under the
// media prefix with every media rule of a local directory: Content-Type
// from the plugin's table (never the object's), nosniff, the sandbox, risky
// types as downloads, hide, no listings, no keys outside the prefix;
// Range, HEAD, 304s; one bucket request per client request, none for
// what is refused before.
func TestBucketMediaServedSafely(t *testing.T) {
	s := startS3(t)
	c := newBucket(t, s, "uploads")
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 1000)...)
	evil := mustRead(t, "testdata/files/evil.html")
	objects := []struct {
		name, stored string // the key under site/, the Content-Type stored on the object
		content      []byte
		wantType     string
		attachment   bool
	}{
		{"evil.html", "text/html", evil, "text/html; charset=utf-8", true},
		{"evil.svg", "image/svg+xml", mustRead(t, "testdata/files/evil.svg"), "image/svg+xml", true},
		{"evil.xml", "text/xml", []byte(`<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>`), "text/xml; charset=utf-8", true},
		{"noext", "text/html", evil, "application/octet-stream", true},
		{"photo.png", "text/html", png, "image/png", false}, // the uploader lied: its stored type is ignored
		{"notes.txt", "text/html", []byte("<script>alert(1)</script>"), "text/plain; charset=utf-8", false},
		{"dir/with space é.png", "image/png", png, "image/png", false},
		{"invoices/2024.pdf", "application/pdf", []byte("%PDF-1.4 TOP-SECRET"), "", false},
	}
	for _, o := range objects {
		putObject(t, c, "site/media/"+o.name, o.content, o.stored)
	}
	putObject(t, c, "secret.txt", []byte("TOP-SECRET"), "text/plain")       // outside the prefix
	putObject(t, c, "site/private.txt", []byte("TOP-SECRET"), "text/plain") // beside it
	putObject(t, c, "site/media/.env", []byte("TOP-SECRET"), "text/plain")

	e := newFilesEnv(t, 1)
	port := e.serve("static /static/ "+e.d.StaticRoot, bucketMedia(t, s, "/media/", "uploads", "site/media", "\t\t\thide invoices\n"), "upstream "+e.upstream)
	base := site(port)
	start := bucketRequestsFor(s, "uploads", "")
	sent := 0 // client requests that must reach the bucket

	for _, o := range objects {
		if o.wantType == "" {
			continue
		}
		path := "/media/" + strings.ReplaceAll(o.name, " ", "%20")
		st, h, body := e.get(base+path, nil)
		sent++
		if st != 200 || body != string(o.content) {
			t.Errorf("%s: %d, %d bytes", path, st, len(body))
			continue
		}
		wantHeader(t, h, "Content-Type", o.wantType)
		wantHeader(t, h, "X-Content-Type-Options", "nosniff")
		wantHeader(t, h, "Content-Security-Policy", "sandbox")
		wantHeader(t, h, "Cache-Control", "public, max-age=86400")
		if got := h.Get("Content-Disposition"); (got == "attachment") != o.attachment {
			t.Errorf("%s: Content-Disposition %q, want attachment=%v", path, got, o.attachment)
		}
		if h.Get("ETag") == "" || h.Get("Last-Modified") == "" || h.Get("Accept-Ranges") != "bytes" {
			t.Errorf("%s: ETag %q, Last-Modified %q, Accept-Ranges %q", path, h.Get("ETag"), h.Get("Last-Modified"), h.Get("Accept-Ranges"))
		}
		for k := range h {
			if strings.HasPrefix(strings.ToLower(k), "x-amz") || k == "Server" && strings.Contains(h.Get(k), "VERSITY") {
				t.Errorf("%s: the bucket's %s reached the client", path, k)
			}
		}
	}

	// Range, HEAD, conditional requests
	get := func(path string, hdr map[string]string) (int, http.Header, string) {
		sent++
		return e.get(base+path, hdr)
	}
	st, h, body := get("/media/notes.txt", map[string]string{"Range": "bytes=8-13"})
	if st != 206 || body != "alert(" || h.Get("Content-Range") != "bytes 8-13/25" {
		t.Errorf("range: %d %q %q", st, body, h.Get("Content-Range"))
	}
	wantHeader(t, h, "X-Content-Type-Options", "nosniff")
	etag, lastMod := h.Get("ETag"), h.Get("Last-Modified")
	if st, _, body := get("/media/notes.txt", map[string]string{"Range": "bytes=100-200"}); st != 416 || body != "" {
		t.Errorf("unsatisfiable range: %d %q", st, body)
	}
	if st, h, body := get("/media/notes.txt", map[string]string{"If-None-Match": etag}); st != 304 || body != "" || h.Get("ETag") != etag || h.Get("Cache-Control") == "" {
		t.Errorf("If-None-Match: %d %q, ETag %q, Cache-Control %q", st, body, h.Get("ETag"), h.Get("Cache-Control"))
	}
	if st, _, _ := get("/media/notes.txt", map[string]string{"If-Modified-Since": lastMod}); st != 304 {
		t.Errorf("If-Modified-Since: %d", st)
	}
	if st, _, body := get("/media/notes.txt", map[string]string{"If-None-Match": `"other"`}); st != 200 || body == "" {
		t.Errorf("If-None-Match another tag: %d %q", st, body)
	}
	if st, _, body := get("/media/notes.txt", map[string]string{"Range": "bytes=0-7", "If-Range": etag}); st != 206 || body != "<script>" {
		t.Errorf("If-Range with the current tag: %d %q", st, body)
	}
	// a changed object: the whole of it (the second bucket request of this case)
	sent++
	if st, _, body := get("/media/notes.txt", map[string]string{"Range": "bytes=0-7", "If-Range": `"old"`}); st != 200 || body != "<script>alert(1)</script>" {
		t.Errorf("If-Range with an old tag: %d %q", st, body)
	}
	req, _ := http.NewRequest(http.MethodHead, base+"/media/photo.png", nil)
	sent++
	if st, h, body := e.do(req); st != 200 || body != "" || h.Get("Content-Length") != fmt.Sprint(len(png)) || h.Get("Content-Type") != "image/png" {
		t.Errorf("HEAD: %d %q, Content-Length %q, Content-Type %q", st, body, h.Get("Content-Length"), h.Get("Content-Type"))
	}
	if st, h, body := get("/media/missing.png", nil); st != 404 || body != "" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("missing object: %d %q", st, body)
	}
	if n := bucketRequestsFor(s, "uploads", "") - start; n > sent {
		t.Errorf("%d client requests cost %d bucket requests", sent, n)
	}

	// refused before the bucket is asked: hidden, hostile, dotfiles,
	// directories (no listings), other methods
	before := bucketRequestsFor(s, "uploads", "")
	for _, p := range []string{"/media/invoices/2024.pdf", "/media/Invoices/2024.pdf", "/media/INVOICES/2024.pdf",
		"/media/../secret.txt", "/media/%2e%2e/secret.txt", "/media/%2e%2e/private.txt", "/media/..%2fprivate.txt", "/media/a%5c..%5c..%5csecret.txt",
		"/media/a%00b", "/media//secret.txt", "/media/.env", "/media/", "/media/dir/", "/media/dir", "/media/%ff.png"} {
		st, h, body := rawRequest(t, fmt.Sprintf("127.0.0.1:%d", port), "GET", p)
		if st != 404 && st != 400 || strings.Contains(body, "TOP-SECRET") || strings.Contains(body, "<Error>") {
			t.Errorf("GET %s: %d %.60q", p, st, body)
		}
		if st == 404 {
			wantHeader(t, h, "X-Content-Type-Options", "nosniff")
		}
	}
	req, _ = http.NewRequest(http.MethodPost, base+"/media/notes.txt", strings.NewReader("x"))
	if st, h, _ := e.do(req); st != 405 || h.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST to media: %d", st)
	}
	// "/media/dir" is a key the bucket is asked for (and has not): all
	// the others never left Caddy
	waitFor(t, 10*time.Second, func() bool { return bucketRequestsFor(s, "uploads", "") >= before+1 }, "the bucket's log")
	if n := bucketRequestsFor(s, "uploads", "") - before; n != 1 {
		t.Errorf("refused paths cost %d bucket requests, want 1 (for /media/dir)", n)
	}
	for _, r := range s.Requests() {
		if r.Bucket == "uploads" && !strings.HasPrefix(r.Key, "site/media/") && (strings.Contains(r.Operation, "GetObject") || strings.Contains(r.Operation, "HeadObject")) {
			t.Errorf("the bucket was asked for %q (outside the prefix): %s", r.Key, r.Operation)
		}
	}
}

// TestBucketMediaOneRequestPerClientRequest counts, on the S3 server, the
// requests 60 client requests (GET, HEAD, ranges, 304s) cost: 60.
func TestBucketMediaOneRequestPerClientRequest(t *testing.T) {
	s := startS3(t)
	c := newBucket(t, s, "counted")
	content := randomBytes(t, 256<<10)
	putObject(t, c, "m/video.mp4", content, "video/mp4")
	tester := newFilesTester(t)
	port := freePort(t)
	loadFilesConfig(t, tester, filesSite(port, "upstream 127.0.0.1:1", bucketMedia(t, s, "/media/", "counted", "m", "")))
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	etag := ""
	before := bucketRequestsFor(s, "counted", "m/")
	counted := func() float64 {
		n := 0.0
		for k, v := range scrapeMetrics(t, fmt.Sprintf("http://localhost:%d/metrics", filesAdmin)) {
			if strings.HasPrefix(k, `caddy_django_bucket_requests_total{bucket="counted"`) {
				n += v
			}
		}
		return n
	}
	metricBefore := counted()
	for i := range 60 {
		req, _ := http.NewRequest(http.MethodGet, site(port)+"/media/video.mp4", nil)
		want := 200
		switch i % 4 {
		case 1:
			req.Method = http.MethodHead
		case 2:
			req.Header.Set("Range", "bytes=1000-")
			want = 206
		case 3:
			req.Header.Set("If-None-Match", etag)
			want = 304
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != want {
			t.Fatalf("request %d: %d (want %d), %v", i, resp.StatusCode, want, err)
		}
		if i == 0 {
			etag = resp.Header.Get("ETag")
			if !bytes.Equal(body, content) {
				t.Fatalf("GET: %d bytes", len(body))
			}
		}
	}
	waitFor(t, 10*time.Second, func() bool { return bucketRequestsFor(s, "counted", "m/")-before >= 60 }, "60 bucket requests in the S3 server's log")
	if n := bucketRequestsFor(s, "counted", "m/") - before; n != 60 {
		t.Errorf("60 client requests cost %d bucket requests", n)
	}
	if n := counted() - metricBefore; n != 60 {
		t.Errorf("caddy_django_bucket_requests_total counted %v bucket requests for 60", n)
	}
}

// TestBucketMediaFailures: a failing bucket is a plain 502 or 504 at once
// (no bucket body, host or credentials in it), its cause in Caddy's log at
// error level; static files and Django are served meanwhile.
func TestBucketMediaFailures(t *testing.T) {
	s := startS3(t)
	c := newBucket(t, s, "media")
	putObject(t, c, "photo.png", []byte("PNG"), "image/png")
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	go func() { // accepts, reads, never answers
		for {
			conn, err := hung.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, conn) }()
		}
	}()
	down, err := testkit.StartS3Server(filepath.Join(t.TempDir(), "down"))
	if err != nil {
		t.Fatal(err)
	}
	newBucket(t, down, "media")
	down.Stop()

	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "") // the "no credentials" site has none
	}
	e := newFilesEnv(t, 1)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	t.Setenv("CADDY_DJANGO_TEST_WRONG_SECRET", "not-"+s.SecretKey)
	sites := fmt.Sprintf("{\n\tlog {\n\t\toutput file %s\n\t\tformat json\n\t}\n}\n", logFile)
	ports := map[string]int{}
	for _, tc := range []struct{ name, media string }{
		{"good", bucketMedia(t, s, "/media/", "media", "", "")},
		{"wrong secret", fmt.Sprintf("media /media/ s3://media {\n\t\t\tendpoint %s\n\t\t\taccess_key %s\n\t\t\tsecret_key {env.CADDY_DJANGO_TEST_WRONG_SECRET}\n\t\t}", s.URL, s.AccessKey)},
		{"unknown key", fmt.Sprintf("media /media/ s3://media {\n\t\t\tendpoint %s\n\t\t\taccess_key NOBODY\n\t\t\tsecret_key {env.CADDY_DJANGO_TEST_WRONG_SECRET}\n\t\t}", s.URL)},
		{"no such bucket", bucketMedia(t, s, "/media/", "nosuchbucket", "", "")},
		{"down", bucketMedia(t, down, "/media/", "media", "", "")},
		{"hung", fmt.Sprintf("media /media/ s3://media {\n\t\t\tendpoint http://%s\n\t\t\ttimeout 1s\n\t\t}", hung.Addr())},
		{"no credentials", fmt.Sprintf("media /media/ s3://media {\n\t\t\tendpoint %s\n\t\t}", s.URL)},
	} {
		ports[tc.name] = freePort(t)
		sites += filesSite(ports[tc.name], "static /static/ "+e.d.StaticRoot, tc.media, "upstream "+e.upstream)
	}
	e.load(sites)
	if st, _, body := e.get(site(ports["good"])+"/media/photo.png", nil); st != 200 || body != "PNG" {
		t.Fatalf("good bucket: %d %q", st, body)
	}
	for _, tc := range []struct {
		name    string
		want    int
		inLog   string
		longest time.Duration
	}{
		{"wrong secret", 502, "SignatureDoesNotMatch", 5 * time.Second},
		{"unknown key", 502, "access key", 5 * time.Second}, // versitygw: 404 XAdminUserNotFound; AWS: 403 InvalidAccessKeyId
		{"no such bucket", 502, "NoSuchBucket", 5 * time.Second},
		{"down", 502, "connection refused", 5 * time.Second},
		{"hung", 504, "did not answer in time", 8 * time.Second},
		{"no credentials", 502, "no credentials", 5 * time.Second}, // not the 404 of a missing object
	} {
		start := time.Now()
		st, h, body := e.get(site(ports[tc.name])+"/media/photo.png", nil)
		took := time.Since(start)
		if st != tc.want || body != "" || took > tc.longest {
			t.Errorf("%s: %d %q after %s, want %d at once", tc.name, st, body, took, tc.want)
		}
		for k, v := range h {
			if strings.Contains(strings.Join(v, " "), "127.0.0.1") || strings.HasPrefix(strings.ToLower(k), "x-amz") {
				t.Errorf("%s: header %s: %v", tc.name, k, v)
			}
		}
		// static files and Django are served meanwhile
		if st, _, _ := e.get(site(ports[tc.name])+"/static/"+hashedName(t, e.d, "css/app.css"), nil); st != 200 {
			t.Errorf("%s: static: %d", tc.name, st)
		}
		if st, _, _ := e.get(site(ports[tc.name])+"/status/204/", nil); st != 204 {
			t.Errorf("%s: Django: %d", tc.name, st)
		}
		var line map[string]any
		waitFor(t, 10*time.Second, func() bool {
			data, _ := os.ReadFile(logFile)
			for _, l := range strings.Split(string(data), "\n") {
				if strings.Contains(l, tc.inLog) && strings.Contains(l, `"level":"error"`) {
					return json.Unmarshal([]byte(l), &line) == nil
				}
			}
			return false
		}, tc.name+": an error line naming "+tc.inLog+" in Caddy's log")
		t.Logf("%s: %v: %v", tc.name, line["msg"], line["err_trace"])
		if data, _ := os.ReadFile(logFile); bytes.Contains(data, []byte(s.SecretKey)) {
			t.Errorf("%s: the secret key is in the log", tc.name)
		}
	}
}

// TestBucketConfigContactsNoBucket: `caddy validate` and `caddy adapt`
// of a config with media from a bucket connect to nothing.
func TestBucketConfigContactsNoBucket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 10)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
			accepted <- struct{}{}
		}
	}()
	dir := t.TempDir()
	cf := writeCaddyfile(t, dir, fmt.Sprintf("{\n\tadmin off\n}\nhttp://:%d {\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tmedia /media/ s3://media/m {\n\t\t\tendpoint http://%s\n\t\t\taccess_key AK\n\t\t\tsecret_key SK\n\t\t}\n\t}\n}\n",
		freePort(t), ln.Addr()))
	for _, args := range [][]string{{"validate", "--config", cf}, {"adapt", "--config", cf}} {
		out, err := exec.Command(caddyBinary(t), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("caddy %s: %v\n%s", args[0], err, out)
		}
	}
	select {
	case <-accepted:
		t.Errorf("validate or adapt connected to the bucket's endpoint")
	default:
	}
}

// TestBucketProtectedDownloads: Django answers X-Accel-Redirect (or
// X-Sendfile) naming a key under a private bucket prefix that has no public
// URL; Caddy fetches it (signing the request itself) with Django's
// Content-Type, Content-Disposition and Cache-Control, the safety headers
// and the object's ETag, so the browser can cache the stable URL.
func TestBucketProtectedDownloads(t *testing.T) {
	s := startS3(t)
	c := newBucket(t, s, "files")
	pdf := []byte("%PDF-1.4 invoice")
	putObject(t, c, "private/invoices/2024.pdf", pdf, "text/html") // its stored type is not used
	putObject(t, c, "private/r\u00e9sum\u00e9.txt", []byte("cv"), "")
	putObject(t, c, "public/photo.png", []byte("PNG"), "image/png")

	d := newDjangoProject(t)
	d.Env = append(d.Env, "DJANGO_PRIVATE_ROOT=/") // X-Sendfile: /<name>, the object's path under the prefix
	e := &filesEnv{t: t, tester: newFilesTester(t), d: d, client: &http.Client{Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	e.upstream, e.accessLog = startLoggedGunicorn(t, d, 1)
	port := e.serve(bucketMedia(t, s, "/media/", "files", "public", ""),
		fmt.Sprintf("protected s3://files/private {\n%s\t\t}", bucketOptionLines(t, s)), "upstream "+e.upstream)
	base := site(port)

	before := bucketRequestsFor(s, "files", "private/")
	st, h, body := e.get(base+"/download/invoices/2024.pdf?token=letmein&raw=1", nil)
	if st != 200 || body != string(pdf) {
		t.Fatalf("X-Accel-Redirect into the bucket: %d %q", st, body)
	}
	wantHeader(t, h, "Content-Type", "application/pdf")
	wantHeader(t, h, "Content-Disposition", `attachment; filename="2024.pdf"`)
	wantHeader(t, h, "Cache-Control", "private, max-age=0")
	wantHeader(t, h, "X-Content-Type-Options", "nosniff")
	wantHeader(t, h, "Content-Security-Policy", "sandbox")
	if h.Get("X-Accel-Redirect") != "" || h.Get("ETag") == "" || h.Get("Content-Length") != fmt.Sprint(len(pdf)) {
		t.Errorf("X-Accel-Redirect %q, ETag %q, Content-Length %q", h.Get("X-Accel-Redirect"), h.Get("ETag"), h.Get("Content-Length"))
	}
	if st, h2, body := e.get(base+"/download/invoices/2024.pdf?token=letmein&raw=1", map[string]string{"If-None-Match": h.Get("ETag")}); st != 304 || body != "" || h2.Get("ETag") != h.Get("ETag") {
		t.Errorf("the browser's cached copy: %d %q", st, body)
	}
	if st, _, body := e.get(base+"/download/invoices/2024.pdf?token=letmein&raw=1", map[string]string{"Range": "bytes=9-15"}); st != 206 || body != "invoice" {
		t.Errorf("a range of a protected object: %d %q", st, body)
	}
	if st, h, body := e.get(base+"/sendfile/invoices/2024.pdf?token=letmein&raw=1", nil); st != 200 || body != string(pdf) || h.Get("X-Sendfile") != "" {
		t.Errorf("X-Sendfile into the bucket: %d %q", st, body)
	}
	if st, _, body := e.get(base+"/download/r%C3%A9sum%C3%A9.txt?token=letmein&raw=1", nil); st != 200 || body != "cv" {
		t.Errorf("X-Accel-Redirect to a non-ASCII key: %d %q", st, body)
	}
	waitFor(t, 10*time.Second, func() bool { return bucketRequestsFor(s, "files", "private/")-before >= 5 }, "the bucket's log")
	if n := bucketRequestsFor(s, "files", "private/") - before; n != 5 {
		t.Errorf("5 downloads cost %d bucket requests", n)
	}

	// Django says no: nothing is fetched; missing objects and targets
	// outside the prefix are 404 and never reach the client
	before = bucketRequestsFor(s, "files", "")
	if st, _, body := e.get(base+"/download/invoices/2024.pdf", nil); st != 403 || strings.Contains(body, "PDF") {
		t.Errorf("without the token: %d %q", st, body)
	}
	for _, p := range []string{"/download/%2e%2e/public/photo.png?token=letmein&raw=1", "/sendfile/%2e%2e/public/photo.png?token=letmein&raw=1",
		"/download/.hidden?token=letmein&raw=1"} {
		if st, _, body := rawRequest(t, fmt.Sprintf("127.0.0.1:%d", port), "GET", p); st != 404 || body != "" {
			t.Errorf("%s: %d %q", p, st, body)
		}
	}
	if n := bucketRequestsFor(s, "files", "") - before; n != 0 {
		t.Errorf("refused targets cost %d bucket requests", n)
	}
	if st, h, body := e.get(base+"/download/nope.pdf?token=letmein&raw=1", nil); st != 404 || body != "" || h.Get("Content-Disposition") != "" {
		t.Errorf("a missing object: %d %q %v", st, body, h)
	}
	// the private prefix has no public URL; the media prefix serves only its own
	if st, _, _ := e.get(base+"/media/photo.png", nil); st != 200 {
		t.Errorf("media: %d", st)
	}
	if st, _, body := rawRequest(t, fmt.Sprintf("127.0.0.1:%d", port), "GET", "/media/%2e%2e/private/invoices/2024.pdf"); st != 404 || strings.Contains(body, "PDF") {
		t.Errorf("the private prefix through media: %d", st)
	}
}

// TestBucketProtectedMayNotOverlapMedia: a protected bucket prefix that
// contains, or lies in, the media bucket's is refused when the config
// loads, with the reason.
func TestBucketProtectedMayNotOverlapMedia(t *testing.T) {
	for _, tc := range []struct{ media, protected string }{
		{"s3://bkt", "s3://bkt/private"},
		{"s3://bkt/media", "s3://bkt"},
		{"s3://bkt/media", "s3://bkt/media/private"},
	} {
		dir := t.TempDir()
		cf := writeCaddyfile(t, dir, fmt.Sprintf("{\n\tadmin off\n}\nhttp://:%d {\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tmedia /media/ %s {\n\t\t\tendpoint http://127.0.0.1:1\n\t\t}\n\t\tprotected %s {\n\t\t\tendpoint http://127.0.0.1:1\n\t\t}\n\t}\n}\n",
			freePort(t), tc.media, tc.protected))
		out, err := exec.Command(caddyBinary(t), "validate", "--config", cf).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "overlaps the media bucket") {
			t.Errorf("media %s, protected %s: %v\n%s", tc.media, tc.protected, err, out)
		}
	}
	// another prefix of the same bucket is fine
	cf := writeCaddyfile(t, t.TempDir(), fmt.Sprintf("{\n\tadmin off\n}\nhttp://:%d {\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tmedia /media/ s3://bkt/media {\n\t\t\tendpoint http://127.0.0.1:1\n\t\t}\n\t\tprotected s3://bkt/private {\n\t\t\tendpoint http://127.0.0.1:1\n\t\t}\n\t}\n}\n", freePort(t)))
	if out, err := exec.Command(caddyBinary(t), "validate", "--config", cf).CombinedOutput(); err != nil {
		t.Errorf("media s3://bkt/media, protected s3://bkt/private: %v\n%s", err, out)
	}
}
