package caddydjango

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzProtectedTargets sends arbitrary X-Accel-Redirect and X-Sendfile
// values (what a Django view, or whoever controls its response, puts in
// them) through a real Caddy's django_files. Property: the value maps to a
// name inside the protected root or to nothing (in process), and whatever
// the value (traversal, percent-encoded dots and slashes, NUL, the root's
// real path through a symlink, a symlink in the root that leaves it,
// dotfiles, query strings), what Caddy sends is one of the protected root's
// files or a 404: never a file outside it, never a dotfile.
//
// The upstream is a small Go server that answers with the header the test
// asks for: it stands for any Django view (the e2e tests of
// files_protected_test.go use real Django); the header's value is the
// fuzz input.
//
// The seeds (below and testdata/fuzz/FuzzProtectedTargets) run in the
// normal suite; fuzz beyond them with
//
//	go test -run '^$' -fuzz FuzzProtectedTargets -fuzztime 5m .
func FuzzProtectedTargets(f *testing.F) {
	addr, env := newProtectedFuzzSite(f)
	for _, seed := range []struct {
		v        string
		sendfile bool
	}{
		{"/protected/report.pdf", false}, {"/protected/sub/inner.txt?x=1", false}, {"/protected/../outside/secret.txt", false},
		{"/protected/%2e%2e/outside/secret.txt", false}, {"/protected/..%2foutside%2fsecret.txt", false}, {"/protected/.env", false},
		{"/protected/escape.txt", false}, {"/protected/sub%2finner.txt", false}, {"/protected/sub/", false}, {"/protected/%00", false},
		{"/protected//" + env.outside + "/secret.txt", false}, {"/protected/a\\..\\..\\outside\\secret.txt", false}, {"", false},
		{env.root + "/report.pdf", true}, {env.real + "/report.pdf", true}, {env.root + "/../outside/secret.txt", true},
		{env.root + "/escape.txt", true}, {env.root + "/.env", true}, {env.outside + "/secret.txt", true}, {env.root, true},
		{env.root + "/sub/./inner.txt", true}, {env.root + "//sub//inner.txt", true}, {"report.pdf", true}, {env.root + "x/report.pdf", true},
	} {
		f.Add(seed.v, seed.sendfile)
	}
	f.Fuzz(func(t *testing.T, value string, sendfile bool) {
		// in process: a name it yields lies inside the protected root
		var name string
		var ok bool
		if sendfile {
			name, ok = env.site.sendfileTarget(value)
		} else {
			name, ok = env.site.accelTarget(value)
		}
		if ok && (!safeRelName(name) || !filepath.IsLocal(name) || !within(filepath.Join(env.root, name), env.root)) {
			t.Fatalf("%q maps to %q, not a name inside the protected root", value, name)
		}
		// end to end
		target := "/dl?v=" + base64.RawURLEncoding.EncodeToString([]byte(value))
		if sendfile {
			target += "&sendfile=1"
		}
		code, body := rawGet(t, addr, target)
		if code/100 != 2 {
			return
		}
		if !env.public[body] {
			t.Fatalf("%q (sendfile %v) sent %q", value, sendfile, body)
		}
	})
}

// protectedFuzzEnv is the tree FuzzProtectedTargets serves from.
type protectedFuzzEnv struct {
	root    string // the protected root as configured (a symlink)
	real    string // its real path
	outside string
	site    *protectedSite
	public  map[string]bool // what may be sent
}

// newProtectedFuzzSite runs a Caddy whose django_files has a protected root
// (configured through a symlink) with files, a dotfile and a symlink that
// leaves it, and proxies to an upstream that answers /dl?v=<base64 value>
// with X-Accel-Redirect (or X-Sendfile with &sendfile=1) set to the value.
func newProtectedFuzzSite(tb testing.TB) (string, *protectedFuzzEnv) {
	base := tb.TempDir()
	env := &protectedFuzzEnv{
		root: filepath.Join(base, "private"), real: filepath.Join(base, "data", "private"),
		outside: filepath.Join(base, "outside"), public: map[string]bool{"DJANGO BODY": true},
	}
	for name, content := range map[string]string{"report.pdf": "PROTECTED report", "sub/inner.txt": "PROTECTED inner"} {
		mustWrite(tb, filepath.Join(env.real, filepath.FromSlash(name)), content)
		env.public[content] = true
	}
	mustWrite(tb, filepath.Join(env.real, ".env"), "SECRET dotfile")
	mustWrite(tb, filepath.Join(env.outside, "secret.txt"), "SECRET outside")
	mustSymlink(tb, filepath.Join(env.outside, "secret.txt"), filepath.Join(env.real, "escape.txt"))
	mustSymlink(tb, env.real, env.root)
	env.site = &protectedSite{dir: env.root, realDir: env.real, prefix: defaultAccelPrefix}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	upstream := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := base64.RawURLEncoding.DecodeString(r.URL.Query().Get("v"))
		field := "X-Accel-Redirect"
		if r.URL.Query().Get("sendfile") != "" {
			field = "X-Sendfile"
		}
		w.Header()[field] = []string{string(v)}
		fmt.Fprint(w, "DJANGO BODY")
	})}
	go upstream.Serve(ln)
	tb.Cleanup(func() { upstream.Close() })

	port := freePort(tb)
	startCaddy(tb, base, func(admin string) string {
		// wait_timeout 1ms: a response with a byte not allowed in a header
		// (the upstream sends the value raw) is malformed, and within
		// wait_timeout reverse_proxy sends the GET again and again (issue 23)
		return fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n}\n:%d {\n\tdjango_files {\n\t\tstatic off\n\t\tmedia off\n\t\tprotected %s\n\t\tupstream %s\n\t\twait_timeout 1ms\n\t}\n}\n",
			admin, port, env.root, ln.Addr())
	})
	return fmt.Sprintf("127.0.0.1:%d", port), env
}

// TestFuzzProtectedSendsProtectedFiles guards the fuzz property against a
// site that sends nothing (which would pass it trivially).
func TestFuzzProtectedSendsProtectedFiles(t *testing.T) {
	addr, env := newProtectedFuzzSite(t)
	for _, tc := range []struct {
		v        string
		sendfile bool
		want     string
	}{
		{"/protected/report.pdf", false, "PROTECTED report"},
		{"/protected/sub/inner.txt", false, "PROTECTED inner"},
		{env.root + "/report.pdf", true, "PROTECTED report"},
		{path.Join(env.real, "sub", "inner.txt"), true, "PROTECTED inner"},
	} {
		target := "/dl?v=" + base64.RawURLEncoding.EncodeToString([]byte(tc.v))
		if tc.sendfile {
			target += "&sendfile=1"
		}
		if code, body := rawGet(t, addr, target); code != 200 || body != tc.want {
			t.Errorf("%s (sendfile %v): %d %q, want %q", tc.v, tc.sendfile, code, body, tc.want)
		}
	}
	for _, v := range []string{"/protected/escape.txt", "/protected/.env", "/protected/../outside/secret.txt"} {
		if code, body := rawGet(t, addr, "/dl?v="+base64.RawURLEncoding.EncodeToString([]byte(v))); code != 404 || strings.Contains(body, "SECRET") {
			t.Errorf("%s: %d %q, want 404", v, code, body)
		}
	}
}
