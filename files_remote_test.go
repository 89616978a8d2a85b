package caddydjango

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// Tests of remote X-Accel-Redirect: which values name a remote file and
// which hosts and addresses may be fetched (in process), then the fetches
// end to end with real Django, boto3's presigned URLs and a real S3 server.

func newTestRemote(t testing.TB, hosts []string, prefixes ...string) *remoteSource {
	t.Helper()
	h := &DjangoFiles{logger: zap.NewNop()}
	rs, err := h.newRemoteSource(&RemoteFiles{Hosts: hosts, Prefixes: prefixes})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestRemoteTargets(t *testing.T) {
	rs := newTestRemote(t, []string{"s3.eu-west-1.amazonaws.com", "*.s3.amazonaws.com", "http://minio:9000", "storage.googleapis.com:8443", "10.1.2.3", "http://[fd00::5]:9000"},
		"/internal/s3/", "/file_download/", "/proxy/")
	for _, tc := range []struct {
		v, want string // want "": not remote; "!": refused
	}{
		{"https://s3.eu-west-1.amazonaws.com/b/k.pdf?X-Amz-Signature=1", "https://s3.eu-west-1.amazonaws.com/b/k.pdf?X-Amz-Signature=1"},
		{"HTTPS://S3.EU-WEST-1.AMAZONAWS.COM./b/k", "https://S3.EU-WEST-1.AMAZONAWS.COM./b/k"},
		{"https://bucket.s3.amazonaws.com/k", "https://bucket.s3.amazonaws.com/k"},
		{"https://a.b.s3.amazonaws.com/k", "https://a.b.s3.amazonaws.com/k"},
		{"/internal/s3/bucket.s3.amazonaws.com/a%20b.png?sig=1", "https://bucket.s3.amazonaws.com/a%20b.png?sig=1"},
		{"/internal/s3/minio:9000/b/k", "http://minio:9000/b/k"}, // listed with http:// only
		{"/file_download/https/s3.eu-west-1.amazonaws.com/b/k", "https://s3.eu-west-1.amazonaws.com/b/k"},
		{"/file_download/http/minio:9000/b/k?x=1", "http://minio:9000/b/k?x=1"},
		{"/proxy/https%3A%2F%2Fstorage.googleapis.com%3A8443%2Fb%2Fk", "https://storage.googleapis.com:8443/b/k"},
		{"/proxy/http:/minio:9000/b/k", "http://minio:9000/b/k"},
		{"https://10.1.2.3/k", "https://10.1.2.3/k"},
		{"http://[fd00::5]:9000/k", "http://[fd00::5]:9000/k"},
		{"https://s3.eu-west-1.amazonaws.com/k#frag", "https://s3.eu-west-1.amazonaws.com/k"},
		// not remote: local protected files
		{"/protected/report.pdf", ""},
		{"/internal/other/x", ""},
		// refused
		{"https://s3.amazonaws.com/k", "!"}, // the wildcard's apex
		{"https://evil.com/k", "!"},         // unlisted
		{"https://s3.eu-west-1.amazonaws.com.evil.com/k", "!"},
		{"https://evils3.amazonaws.com/k", "!"},
		{"http://s3.eu-west-1.amazonaws.com/k", "!"},       // https only
		{"https://s3.eu-west-1.amazonaws.com:8443/k", "!"}, // another port
		{"https://storage.googleapis.com/k", "!"},          // the listed port only
		{"http://minio/k", "!"},                            // port 80 is not 9000
		{"https://user:pw@s3.eu-west-1.amazonaws.com/k", "!"},
		{"https://10.1.2.4/k", "!"},
		{"https://127.0.0.1/k", "!"},
		{"/internal/s3/127.0.0.1/k", "!"},
		{"/file_download/ftp/minio:9000/k", "!"},
		{"/internal/s3/", "!"},
	} {
		u, remote, err := rs.target(tc.v)
		switch {
		case tc.want == "" && (remote || err != nil):
			t.Errorf("%q: remote %v (%v), want a local target", tc.v, u, err)
		case tc.want == "!" && (err == nil || !remote):
			t.Errorf("%q: %v, remote %v, want refused", tc.v, u, remote)
		case tc.want != "" && tc.want != "!" && (err != nil || u.String() != tc.want):
			t.Errorf("%q: %v (%v), want %s", tc.v, u, err, tc.want)
		}
	}
	star := newTestRemote(t, []string{"*"})
	if _, _, err := star.target("https://any.example.org/x"); err != nil {
		t.Errorf("* refused a name: %v", err)
	}
	if _, _, err := star.target("https://93.184.216.34/x"); err == nil {
		t.Errorf("* matched an IP address")
	}
}

func TestRemoteHostPatterns(t *testing.T) {
	for _, bad := range []string{"", "https://", "a.example.com/path", "s3.*.amazonaws.com", "*example.com", "a b", "a.example.com:0",
		"a.example.com:x", "user@a.example.com", "ftp://a.example.com", "*.", "a..b"} {
		if _, err := parseHostPattern(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{"a.example.com", "A.Example.COM.", "*.example.com", "*", "http://minio:9000", "https://s3.example.com:8443", "10.0.0.1", "[::1]:9000", "http://[fd00::1]"} {
		if _, err := parseHostPattern(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
}

func TestRemotePublicAddresses(t *testing.T) {
	for _, a := range []string{"127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
		"::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "224.0.0.1", "255.255.255.255"} {
		if publicAddr(netip.MustParseAddr(a)) {
			t.Errorf("%s counted as public", a)
		}
	}
	for _, a := range []string{"93.184.216.34", "52.95.110.1", "2a05:d018::1", "::ffff:52.95.110.1"} {
		if !publicAddr(netip.MustParseAddr(a)) {
			t.Errorf("%s counted as not public", a)
		}
	}
	rs := newTestRemote(t, []string{"*.example.com", "http://minio:9000", "10.1.2.3"})
	for host, want := range map[string]bool{"minio": true, "10.1.2.3": true, "a.example.com": false, "example.com": false} {
		if got := rs.listedExactly(host); got != want {
			t.Errorf("listedExactly(%s) = %v", host, got)
		}
	}
}

// TestRemoteDialGuard: a host matched only by a wildcard cannot reach a
// loopback address, whatever its name resolves to; one listed exactly can.
func TestRemoteDialGuard(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		hosts []string
		url   string
		ok    bool
	}{
		{[]string{fmt.Sprintf("http://localhost:%d", port)}, fmt.Sprintf("http://localhost:%d/", port), true},
		{[]string{fmt.Sprintf("http://127.0.0.1:%d", port)}, fmt.Sprintf("http://127.0.0.1:%d/", port), true},
		{[]string{fmt.Sprintf("http://*:%d", port)}, fmt.Sprintf("http://localhost:%d/", port), false},
	} {
		rs := newTestRemote(t, tc.hosts)
		u, _ := url.Parse(tc.url)
		_, err := rs.fetcher.Fetch(context.Background(), http.MethodGet, u, nil)
		if (err == nil) != tc.ok || (!tc.ok && !strings.Contains(err.Error(), "refused")) {
			t.Errorf("%v → %s: %v", tc.hosts, tc.url, err)
		}
		rs.close()
	}
}

// TestRemoteAccelRedirect: Django (real boto3) answers X-Accel-Redirect
// with a presigned URL of the real S3 server in each project's shape
// (a URL, Zulip's /internal/s3/, Label Studio's /file_download/, uMap's
// /proxy/); Caddy fetches it with Django's headers and the safety headers.
// Refused: an unlisted host or port, a name that resolves to loopback
// through a wildcard, a redirect to another host, a file over max_size.
func TestRemoteAccelRedirect(t *testing.T) {
	s3 := startS3(t)
	c := newBucket(t, s3, "remote-files")
	redirects, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rport := redirects.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away": // to another host (the S3 server)
			http.Redirect(w, r, s3.URL+"/remote-files/media/uploads/report.pdf", http.StatusFound)
		case "/same":
			http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
		case "/final":
			io.WriteString(w, "final")
		default:
			http.NotFound(w, r)
		}
	})}
	go srv.Serve(redirects)
	defer srv.Close()
	vport := strings.TrimPrefix(s3.URL, "http://127.0.0.1:")
	site := fmt.Sprintf("django_files {\n\t\tprotected {\n\t\t\tremote http://127.0.0.1:%s http://127.0.0.1:%d http://*:%s {\n\t\t\t\tprefix /internal/s3/ /file_download/ /proxy/\n\t\t\t\tmax_size 100KB\n\t\t\t}\n\t\t}\n\t}",
		vport, rport, vport)
	s := startBucketProject(t, s3, "remote-files", site)
	pdf := []byte("%PDF-1.4 " + strings.Repeat("report ", 100))
	link := uploadTo(t, s, "report.pdf", pdf)
	if !strings.HasSuffix(link, "/media/uploads/report.pdf") {
		t.Fatalf("upload: %s", link)
	}
	putObject(t, c, "media/big.bin", randomBytes(t, 200<<10), "")

	for _, shape := range []string{"url", "zulip", "labelstudio", "umap"} {
		code, h, body := getWithHeaders(t, s.url("/remote/uploads/report.pdf?token=letmein&shape="+shape))
		if code != 200 || body != string(pdf) {
			t.Errorf("%s: %d, %d bytes", shape, code, len(body))
			continue
		}
		wantHeader(t, h, "Content-Type", "application/pdf")
		wantHeader(t, h, "Content-Disposition", `attachment; filename="report.pdf"`)
		wantHeader(t, h, "Cache-Control", "private, max-age=3600")
		wantHeader(t, h, "X-Content-Type-Options", "nosniff")
		wantHeader(t, h, "Content-Security-Policy", "sandbox")
		if h.Get("X-Accel-Redirect") != "" || h.Get("ETag") == "" || h.Get("X-Amz-Request-Id") != "" {
			t.Errorf("%s: header %v", shape, h)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, s.url("/remote/uploads/report.pdf?token=letmein"), nil)
	req.Header.Set("Range", "bytes=0-7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || string(got) != "%PDF-1.4" {
		t.Errorf("range: %d %q", resp.StatusCode, got)
	}

	accel := func(to string) (int, string) {
		code, _, body := getWithHeaders(t, s.url("/accel/?token=letmein&to="+url.QueryEscape(to)))
		return code, body
	}
	if code, body := accel(fmt.Sprintf("http://127.0.0.1:%d/final", rport)); code != 200 || body != "final" {
		t.Errorf("a listed host: %d %q", code, body)
	}
	if code, body := accel(fmt.Sprintf("http://127.0.0.1:%d/same", rport)); code != 200 || body != "final" {
		t.Errorf("a redirect on the same host: %d %q", code, body)
	}
	for _, tc := range []struct {
		to, log string
		want    int
	}{
		{"https://example.org/secret", "not a listed host", 404},
		{fmt.Sprintf("http://127.0.0.1:%d/", s.gport), "not a listed host", 404}, // the app server itself
		{fmt.Sprintf("http://localhost:%s/remote-files/media/uploads/report.pdf", vport), "loopback", 404},
		{fmt.Sprintf("http://127.0.0.1:%d/away", rport), "redirect to another host refused", 502},
		{fmt.Sprintf("http://127.0.0.1:%d/missing", rport), "", 404},
	} {
		if code, body := accel(tc.to); code != tc.want || body != "" {
			t.Errorf("%s: %d %q, want %d", tc.to, code, body, tc.want)
		}
		if tc.log != "" {
			s.waitLog(10*time.Second, tc.to+" in the log", func(e logEntry) bool {
				return strings.Contains(fmt.Sprint(e), tc.log) && strings.Contains(fmt.Sprint(e), strings.SplitN(strings.TrimPrefix(strings.TrimPrefix(tc.to, "https://"), "http://"), "/", 2)[0])
			})
		}
	}
	// over max_size: refused before a byte is sent
	if code, _, body := getWithHeaders(t, s.url("/remote/big.bin?token=letmein")); code != 502 || body != "" {
		t.Errorf("a file over max_size: %d, %d bytes", code, len(body))
	}
	s.waitLog(10*time.Second, "max_size in the log", func(e logEntry) bool { return strings.Contains(fmt.Sprint(e), "larger than remote max_size") })
	// a presigned URL whose signature does not match: the S3 server refuses it
	tampered := fmt.Sprintf("http://127.0.0.1:%s/remote-files/media/uploads/report.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s%%2F20260101%%2Fus-east-1%%2Fs3%%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=00", vport, s3.AccessKey)
	if code, body := accel(tampered); code != 502 || strings.Contains(body, "Error") {
		t.Errorf("a bad signature: %d %q", code, body)
	}
	for _, e := range s.entries(func(logEntry) bool { return true }) {
		// (the request's own URI, logged by Caddy, holds this test's ?to=)
		if strings.Contains(e.str("msg")+e.str("url")+e.str("error"), "X-Amz-Signature") {
			t.Errorf("a log line shows a presigned URL's signature: %v", e)
			break
		}
	}
}
