package caddydjango

import (
	"net"
	"strings"
	"testing"
)

// FuzzRemoteTargets reads arbitrary X-Accel-Redirect values (what a Django
// view, or whoever controls its response, puts in them) with a `remote`
// block's rules, in process. Property: a value is taken as remote only when
// it is an absolute http(s) URL or lies under a listed prefix, and a remote
// value that is accepted names a plain http(s) URL with a host, no user
// info and no fragment, whose scheme, host and port fit one of the listed
// hosts: never an unlisted host, never a listed name's look-alike
// (`listed.evil.com`, `evillisted`), never plain http to a host listed for
// https only, never another port. (The addresses a host resolves to are
// checked when Caddy connects: TestRemoteDialGuard.)
//
// The seeds (below and testdata/fuzz/FuzzRemoteTargets) run in the normal
// suite; fuzz beyond them with
//
//	go test -run '^$' -fuzz FuzzRemoteTargets -fuzztime 5m .
func FuzzRemoteTargets(f *testing.F) {
	for _, seed := range []string{
		"https://files.example.com/b/k.pdf?X-Amz-Signature=1", "HTTPS://FILES.EXAMPLE.COM./k", "https://a.cdn.example.net/k",
		"/internal/s3/files.example.com/a%20b.png?sig=1", "/internal/s3/minio:9000/b/k", "/file_download/https/files.example.com/b/k",
		"/file_download/http/minio:9000/b/k", "/proxy/https%3A%2F%2Ffiles.example.com%2Fb%2Fk", "/proxy/http:/minio:9000/b/k",
		"https://10.1.2.3/k", "http://[fd00::5]:9000/k", "https://files.example.com/k#frag", "/protected/report.pdf",
		"https://cdn.example.net/k", "https://evil.com/k", "https://files.example.com.evil.com/k", "https://evilfiles.example.com/k",
		"http://files.example.com/k", "https://files.example.com:8443/k", "https://user:pw@files.example.com/k",
		"https://files.example.com@evil.com/k", "/internal/s3/evil.com/k", "/internal/s3//evil.com/k", "https:///k",
		"/internal/s3/files.example.com%2f..%2f@evil.com/k", "https://files.example.com\\@evil.com/k", "http://minio:9000:80/k",
		"https://[::1]/k", "https://0x0a.1.2.3/k", "https://10.1.2.3.:443/k", "https://%66iles.example.com/k",
		"/file_download/javascript/alert(1)", "/proxy/file:///etc/passwd", "https://files.example.com%00.evil.com/k",
	} {
		f.Add(seed)
	}
	rs := newTestRemote(f, []string{"files.example.com", "*.cdn.example.net", "http://minio:9000", "10.1.2.3", "http://[fd00::5]:9000"},
		"/internal/s3/", "/file_download/", "/proxy/")
	f.Fuzz(func(t *testing.T, v string) {
		u, remote, err := rs.target(v)
		if !remote {
			if u != nil || err != nil {
				t.Fatalf("%q: not remote, yet %v, %v", v, u, err)
			}
			if isHTTPURL(v) || strings.HasPrefix(v, "/internal/s3/") || strings.HasPrefix(v, "/file_download/") || strings.HasPrefix(v, "/proxy/") {
				t.Fatalf("%q is of a remote shape but was not taken as remote", v)
			}
			return
		}
		if err != nil {
			if u != nil {
				t.Fatalf("%q: refused (%v) with a URL %v", v, err, u)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.User != nil || u.Opaque != "" || u.Fragment != "" || u.Host == "" {
			t.Fatalf("%q: accepted as %q, not a plain http(s) URL with a host", v, u)
		}
		host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		hp := net.JoinHostPort(host, port)
		switch {
		case u.Scheme == "https" && (hp == "files.example.com:443" || hp == "10.1.2.3:443" ||
			strings.HasSuffix(host, ".cdn.example.net") && port == "443" && host != ".cdn.example.net"):
		case hp == "minio:9000" || hp == "[fd00::5]:9000":
		default:
			t.Fatalf("%q: accepted as %q (%s %s), which no listed host allows", v, u, u.Scheme, hp)
		}
	})
}
