package caddydjango

import (
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

// Fuzz tests of the two Caddyfile unmarshallers (caddyfile.go,
// caddyfile_files.go): whatever is inside the `django` option's block or
// the `django_files` directive's block, parsing ends (no panic, no hang)
// with either a clear error that names the Caddyfile line, or a JSON config
// that `caddy validate` then provisions (without starting anything) to an
// error or success, again without a panic or hang.
//
// The seeds (below and testdata/fuzz/FuzzDjangoCaddyfile,
// testdata/fuzz/FuzzDjangoFilesCaddyfile) run in the normal suite; fuzz
// beyond them with
//
//	go test -run '^$' -fuzz FuzzDjangoCaddyfile -fuzztime 5m .
//	go test -run '^$' -fuzz FuzzDjangoFilesCaddyfile -fuzztime 5m .

// FuzzDjangoCaddyfile: the body of the global `django { … }` block.
func FuzzDjangoCaddyfile(f *testing.F) {
	for _, seed := range []string{
		"root /app\nenv DJANGO_SETTINGS_MODULE config.settings\nenv_file .env",
		"gunicorn config.wsgi:application {\n\tworkers 3\n\tbind unix:/run/g.sock\n\targs --timeout 30\n}",
		"uvicorn config.asgi:application {\n\tname ws\n\tbind 127.0.0.1:8001\n\tready_timeout 1m\n}",
		"daphne config.asgi:application {\n\tbind unix:/tmp/d.sock\n}",
		"hypercorn a:b\nuwsgi c:d {\n\tcommand /usr/bin/uwsgi\n}",
		"release python manage.py migrate --noinput {\n\tuser www-data\n\ttimeout 5m\n\tenv A b\n\tdir /app\n}\nrelease_timeout 10m",
		"process worker python manage.py db_worker {\n\tautorestart unexpected\n\texitcodes 0,2 3\n\tstartsecs 1s\n\tstartretries 3\n\tbackoff 1s\n\tbackoff_max 1m\n\tstop_signal TERM\n\tstop_timeout 10s\n\tpriority -5\n\treplicas 2\n\tenabled false\n\tessential\n}",
		"process db /usr/lib/postgresql/15/bin/postgres {\n\tbefore_release\n\tready tcp 127.0.0.1:5432\n}",
		"schedule clear \"*/5 * * * *\" python manage.py clearsessions {\n\ttimeout 1m\n}",
		"schedule nightly @daily true",
		"python {$PYTHON:/usr/bin/python3}\nroot {env.HOME}",
		"gunicorn a:b\ngunicorn c:d", "process release true", "exitcodes 300", "priority 99999999999999999999",
		"process p true {\n\tready http http://[::1\n}", "gunicorn a:b {\n\tbind fd://3\n}", "env A", "release", "}",
		"gunicorn a:b {\n\tworkers 0\n}", "process p true {\n\tstop_signal SIGFOO\n}", "release_timeout -1s",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		d, ok := fuzzDispenser("django {\n" + body + "\n}\n")
		if !ok {
			return
		}
		var val any
		err := endsWithin(t, "parsing the django block", func() (err error) {
			val, err = parseGlobalDjango(d, nil)
			return err
		})
		if err != nil {
			requireFileLine(t, body, err)
			return
		}
		app := val.(httpcaddyfile.App)
		fuzzValidate(t, fmt.Sprintf(`{"apps":{"django":%s}}`, app.Value))
	})
}

// FuzzDjangoFilesCaddyfile: the body of a `django_files { … }` block.
func FuzzDjangoFilesCaddyfile(f *testing.F) {
	for _, seed := range []string{
		"static /static/ static_root {\n\tmax_age 1h\n\timmutable_max_age 1y\n\tcompress gzip zstd\n\tfollow_symlinks\n}",
		"media /media/ media_root {\n\tmax_age 10m\n\thide private invoices\n\tdisposition attachment\n}",
		"root_files public {\n\tmax_age 1h\n}\nprotected private {\n\taccel_prefix /protected/\n}",
		"upstream 127.0.0.1:8000\nmax_body 10MB\nrequest_buffer 1MiB\nbuffer_dir /tmp\nwait_timeout 30s\nupstream_keepalive 2m",
		"trusted_proxies private_ranges\nhealth /healthz\nrequest_start off\napp web",
		"static off\nmedia off\nroot_files off", "static {\n\tcache_size 0\n}", "media\nstatic",
		"trusted_proxies 10.0.0.0/33", "max_body -1", "static /static/ /a /b", "upstream", "health healthz",
		"protected {\n\taccel_prefix\n}", "media /m/ {\n\thide /abs\n}", "static {\n\tcompress br\n}", "}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		d, ok := fuzzDispenser("django_files {\n" + body + "\n}\n")
		if !ok {
			return
		}
		h := new(DjangoFiles)
		if err := endsWithin(t, "parsing the django_files block", func() error { return h.UnmarshalCaddyfile(d) }); err != nil {
			requireFileLine(t, body, err)
			return
		}
		handler := caddyconfig.JSONModuleObject(h, "handler", "django_files", nil)
		fuzzValidate(t, fmt.Sprintf(`{"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:0"],"routes":[{"handle":[%s]}]}}}}}`, handler))
	})
}

// fuzzDispenser tokenizes a Caddyfile the way Caddy's lexer does; false
// when the lexer refuses it (its own error, with the line) or it has an
// `import` (the fuzzer must not read the machine's files).
func fuzzDispenser(src string) (*caddyfile.Dispenser, bool) {
	tokens, err := caddyfile.Tokenize([]byte(src), "Caddyfile")
	if err != nil {
		return nil, false
	}
	for _, tok := range tokens {
		if tok.Text == "import" {
			return nil, false
		}
	}
	return caddyfile.NewDispenser(tokens), true
}

// caddyfileLine is how a Caddyfile error names where it is (Dispenser.Err).
var caddyfileLine = regexp.MustCompile(`, at Caddyfile:[1-9][0-9]*`)

func requireFileLine(t *testing.T, body string, err error) {
	t.Helper()
	if !caddyfileLine.MatchString(err.Error()) {
		t.Fatalf("error without the Caddyfile's line for %q: %v", body, err)
	}
}

// fuzzValidate provisions a JSON config as `caddy validate` does (nothing
// is started); its error, if any, is the user's answer.
func fuzzValidate(t *testing.T, apps string) {
	t.Helper()
	raw := `{"admin":{"disabled":true},"logging":{"logs":{"default":{"writer":{"output":"discard"}}}},` + apps[1:]
	var cfg caddy.Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatalf("the adapted config is not JSON Caddy reads: %v\n%s", err, raw)
	}
	_ = endsWithin(t, "caddy validate", func() error { return caddy.Validate(&cfg) })
}

// endsWithin runs fn, failing the test when it does not return in a minute (a
// hang: one input takes microseconds).
func endsWithin(t *testing.T, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("%s hangs", what)
		return nil
	}
}
