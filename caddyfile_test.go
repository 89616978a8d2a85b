package caddydjango

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

// adaptDjango adapts a Caddyfile and returns the django app's JSON.
func adaptDjango(t *testing.T, caddyfile string) (map[string]any, error) {
	t.Helper()
	adapter := caddyconfig.GetAdapter("caddyfile")
	out, _, err := adapter.Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Apps map[string]map[string]any `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.Apps["django"], nil
}

// provisionDjango adapts caddyfile and provisions its django app
// in-process, as `caddy validate` does (nothing starts).
func provisionDjango(t *testing.T, caddyfile string) (*App, error) {
	t.Helper()
	raw, err := adaptDjango(t, caddyfile)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(raw)
	a := new(App)
	if err := json.Unmarshal(data, a); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	return a, a.Provision(ctx)
}

// provisionDjangoErr is provisionDjango's error.
func provisionDjangoErr(t *testing.T, caddyfile string) error {
	t.Helper()
	_, err := provisionDjango(t, caddyfile)
	return err
}

func TestCaddyfileAdaptsToJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{
			name: "the contract example",
			in: `{
	django {
		root /app
		env DJANGO_SETTINGS_MODULE config.settings
		env_file .env
		gunicorn config.wsgi:application {
			command uv run --no-sync gunicorn
			bind 127.0.0.1:8000
			workers 3
			args --timeout 60
		}
		process db_worker uv run --no-sync ./manage.py db_worker {
			priority 30
		}
	}
}`,
			want: `{"env":{"DJANGO_SETTINGS_MODULE":"config.settings"},"env_file":".env","gunicorn":{"app":"config.wsgi:application","args":["--timeout","60"],"bind":"127.0.0.1:8000","command":["uv","run","--no-sync","gunicorn"],"workers":3},"processes":[{"command":["uv","run","--no-sync","./manage.py","db_worker"],"name":"db_worker","priority":30}],"root":"/app"}`,
		},
		{
			name: "every process option",
			in: `{
	django {
		release ./manage.py migrate --noinput
		release ./manage.py collectstatic --noinput
		release_timeout 5m
		process w ./manage.py db_worker --max-tasks 100 {
			autorestart unexpected
			exitcodes 0 2
			startsecs 0
			startretries 5
			backoff 500ms
			backoff_max 1m
			stop_signal SIGINT
			stop_timeout 40s
			priority -1
			replicas 2
			env A b
			dir src
			user www-data
			essential
		}
	}
}`,
			want: `{"processes":[{"autorestart":"unexpected","backoff":500000000,"backoff_max":60000000000,"command":["./manage.py","db_worker","--max-tasks","100"],"dir":"src","env":{"A":"b"},"essential":true,"exitcodes":[0,2],"name":"w","priority":-1,"replicas":2,"startretries":5,"startsecs":0,"stop_signal":"SIGINT","stop_timeout":40000000000,"user":"www-data"}],"release":[["./manage.py","migrate","--noinput"],["./manage.py","collectstatic","--noinput"]],"release_timeout":300000000000}`,
		},
		{
			name: "gunicorn on a unix socket with readiness options",
			in: `{
	django {
		gunicorn app.wsgi {
			bind unix:/run/app.sock
			ready_path /healthz/
			ready_timeout 2m
			stop_timeout 45s
			essential
		}
	}
}`,
			want: `{"gunicorn":{"app":"app.wsgi","bind":"unix:/run/app.sock","essential":true,"ready_path":"/healthz/","ready_timeout":120000000000,"stop_timeout":45000000000}}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := adaptDjango(t, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(got)
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
}

func TestCaddyfileErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"unknown option", "{\n\tdjango {\n\t\tworkers 3\n\t}\n}", `Caddyfile:3 - Error during parsing: unknown django option "workers"`},
		{"unknown process option", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\trestart always\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: unknown process option "restart"`},
		{"unknown gunicorn option", "{\n\tdjango {\n\t\tgunicorn a.wsgi {\n\t\t\tthreads 2\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: unknown gunicorn option "threads"`},
		{"bad duration", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\tstop_timeout ten\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: stop_timeout: "ten" is not a duration`},
		{"negative duration", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\tstartsecs -1s\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: startsecs: "-1s" must not be negative`},
		{"missing process command", "{\n\tdjango {\n\t\tprocess worker\n\t}\n}", `Caddyfile:3 - Error during parsing: process worker needs a command`},
		{"missing process name", "{\n\tdjango {\n\t\tprocess\n\t}\n}", `Caddyfile:3 - Error during parsing: process needs a name and a command`},
		{"missing wsgi app", "{\n\tdjango {\n\t\tgunicorn {\n\t\t}\n\t}\n}", `Caddyfile:3 - Error during parsing: gunicorn needs the WSGI application`},
		{"unknown signal", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\tstop_signal SIGFOO\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: stop_signal: unknown signal "SIGFOO"`},
		{"bad number", "{\n\tdjango {\n\t\tgunicorn a.wsgi {\n\t\t\tworkers many\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: workers: "many" is not a whole number`},
		{"zero workers", "{\n\tdjango {\n\t\tgunicorn a.wsgi {\n\t\t\tworkers 0\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: workers must be at least 1, got 0`},
		{"negative retries", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\tstartretries -2\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: startretries must be at least 0, got -2`},
		{"bad autorestart", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\tautorestart sometimes\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: autorestart "sometimes": want always, unexpected or never`},
		{"bad exit code", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\texitcodes 0 300\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: exitcodes: "300" is not an exit code from 0 to 255`},
		{"duplicate process", "{\n\tdjango {\n\t\tprocess w ./a\n\t\tprocess w ./b\n\t}\n}", `Caddyfile:4 - Error during parsing: process name "w" is already used`},
		{"process named gunicorn", "{\n\tdjango {\n\t\tprocess gunicorn ./a\n\t}\n}", `Caddyfile:3 - Error during parsing: process name "gunicorn" is already used`},
		{"bad process name", "{\n\tdjango {\n\t\tprocess my.worker ./a\n\t}\n}", `Caddyfile:3 - Error during parsing: process name "my.worker": use letters, digits`},
		{"two gunicorns", "{\n\tdjango {\n\t\tgunicorn a.wsgi\n\t\tgunicorn b.wsgi\n\t}\n}", `Caddyfile:4 - Error during parsing: gunicorn: name "gunicorn" is already used; names must be unique (set ` + "`name`)"},
		{"two binds", "{\n\tdjango {\n\t\tgunicorn a.wsgi\n\t\tuvicorn b.asgi\n\t}\n}", `Caddyfile:4 - Error during parsing: uvicorn "uvicorn": bind 127.0.0.1:8000 is already used by "gunicorn"; binds must be unique`},
		{"app server named like a process", "{\n\tdjango {\n\t\tprocess ws ./a\n\t\tuvicorn b.asgi {\n\t\t\tname ws\n\t\t}\n\t}\n}", `Caddyfile:6 - Error during parsing: uvicorn: name "ws" is already used`},
		{"unnamed second server", "{\n\tdjango {\n\t\tuvicorn a.asgi\n\t\tuvicorn b.asgi {\n\t\t\tbind 127.0.0.1:8001\n\t\t}\n\t}\n}", `Caddyfile:6 - Error during parsing: uvicorn: name "uvicorn" is already used`},
		{"bad bind", "{\n\tdjango {\n\t\tgunicorn a.wsgi {\n\t\t\tbind localhost\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: bind "localhost": want HOST:PORT or unix:PATH`},
		{"daphne on a unix bind", "{\n\tdjango {\n\t\tdaphne a.asgi {\n\t\t\tbind unix:/run/ws.sock\n\t\t}\n\t}\n}", `Caddyfile:5 - Error during parsing: daphne "daphne": bind "unix:/run/ws.sock": daphne takes a HOST:PORT bind only (Twisted's fd endpoint adopts TCP sockets)`},
		{"port 0", "{\n\tdjango {\n\t\tgunicorn a.wsgi {\n\t\t\tbind 127.0.0.1:0\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: bind "127.0.0.1:0": port 0 would give the app server a random port`},
		{"process named release", "{\n\tdjango {\n\t\tprocess release ./a\n\t}\n}", `Caddyfile:3 - Error during parsing: process name "release" is reserved`},
		{"replicas on gunicorn", "{\n\tdjango {\n\t\tgunicorn a.wsgi {\n\t\t\treplicas 2\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: replicas is not supported for gunicorn; use workers`},
		{"extra argument", "{\n\tdjango {\n\t\troot /a /b\n\t}\n}", `Caddyfile:3 - Error during parsing: root takes one value, got extra "/b"`},
		{"env without value", "{\n\tdjango {\n\t\tenv FOO\n\t}\n}", `Caddyfile:3 - Error during parsing: env needs a name and a value`},
		{"release without command", "{\n\tdjango {\n\t\trelease\n\t}\n}", `Caddyfile:3 - Error during parsing: release needs a command`},
		{"arguments on django", "{\n\tdjango /app\n}", `Caddyfile:2 - Error during parsing: django takes no arguments on its first line`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptDjango(t, tc.in)
			wantAdaptError(t, err, tc.want)
		})
	}
}

// wantAdaptError checks that adapting a Caddyfile failed with the message
// of want ("Caddyfile:N - Error during parsing: message"), in plain words,
// and where it is.
func wantAdaptError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("adapted without error; want %q", want)
	}
	where, msg, _ := strings.Cut(want, " - Error during parsing: ")
	if !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), where) {
		t.Errorf("error %q\nwant it to contain %q and %q", err, msg, where)
	}
}
