package caddydjango

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// Release commands with options (user, env, dir, timeout): the JSON forms,
// the Caddyfile block and what a command runs with.

func TestReleaseJSONAcceptsBothForms(t *testing.T) {
	var a App
	in := `{"release":[["python","manage.py","migrate"],{"command":["python","manage.py","check"],"user":"app","env":{"A":"b"},"dir":"src","timeout":"5m"}]}`
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Release) != 2 || strings.Join(a.Release[0].Command, " ") != "python manage.py migrate" || !a.Release[0].plain() {
		t.Errorf("old form: %+v", a.Release)
	}
	if r := a.Release[1]; r.User != "app" || r.Env["A"] != "b" || r.Dir != "src" || time.Duration(r.Timeout) != 5*time.Minute {
		t.Errorf("object form: %+v", r)
	}
	if err := json.Unmarshal([]byte(`{"release":[{"command":["x"],"usr":"app"}]}`), new(App)); err == nil || !strings.Contains(err.Error(), `unknown field "usr"`) {
		t.Errorf("a misspelt option: %v, want unknown field", err)
	}
	out, _ := json.Marshal(a.Release)
	want := `[["python","manage.py","migrate"],{"command":["python","manage.py","check"],"user":"app","env":{"A":"b"},"dir":"src","timeout":300000000000}]`
	if string(out) != want {
		t.Errorf("marshalled %s\nwant %s", out, want)
	}
}

func TestCaddyfileReleaseBlock(t *testing.T) {
	got, err := adaptDjango(t, `{
	django {
		release python manage.py migrate --noinput {
			user app
			env DJANGO_SETTINGS_MODULE config.settings
			dir src
			timeout 5m
		}
		release python manage.py collectstatic --noinput
	}
}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got["release"])
	want := `[{"command":["python","manage.py","migrate","--noinput"],"dir":"src","env":{"DJANGO_SETTINGS_MODULE":"config.settings"},"timeout":300000000000,"user":"app"},["python","manage.py","collectstatic","--noinput"]]`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	_, err = adaptDjango(t, "{\n\tdjango {\n\t\trelease ./a {\n\t\t\tpriority 3\n\t\t}\n\t}\n}")
	wantAdaptError(t, err, `Caddyfile:4 - Error during parsing: unknown release option "priority"`)
}

func TestReleaseCommandOptions(t *testing.T) {
	a, logs := releaseApp(t)
	if err := os.Mkdir(filepath.Join(a.Root, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	a.Release = []ReleaseCommand{
		{Command: []string{"/bin/sh", "-c", "echo env=$ONLY_HERE dir=$(pwd) uid=$(id -u)"}, Env: map[string]string{"ONLY_HERE": "yes"}, Dir: "src"},
		{Command: []string{"/bin/sh", "-c", "exec sleep 600"}, Timeout: caddy.Duration(200 * time.Millisecond)},
	}
	if os.Geteuid() == 0 {
		a.Release[0].User = "nobody"
		for _, d := range []string{filepath.Dir(a.Root), a.Root} { // nobody must enter src
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.provisionReleases(); err != nil {
		t.Fatal(err)
	}
	err := a.runReleases(context.Background())
	if err == nil || !strings.Contains(err.Error(), "timed out after 200ms") {
		t.Errorf("error %v, want the second command's own timeout", err)
	}
	uid := os.Getuid()
	if os.Geteuid() == 0 {
		uid = 65534
	}
	want := "env=yes dir=" + filepath.Join(a.Root, "src") + " uid=" + strconv.Itoa(uid)
	if got := strings.Join(logMessages(logs), "|"); !strings.Contains(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
}
