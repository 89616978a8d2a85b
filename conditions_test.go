//go:build unix

package caddydjango

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTruthy(t *testing.T) {
	for v, want := range map[string]bool{
		"": false, " ": false, "0": false, "false": false, "FALSE": false, "No": false, "off": false, "OFF": false,
		"1": true, "true": true, "yes": true, "on": true, "y": true, "25": true, "web": true, "00": true, "-": true,
	} {
		if got := truthy(v); got != want {
			t.Errorf("truthy(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestCaddyfileEnabledForms: `enabled` as the contract reads it, with
// Caddy's {$VAR} substitution: any non-empty value but 0/false/no/off is
// true, an empty one (a variable set to "" leaves no token) is false, `!`
// negates, `is` compares with words; the JSON holds the result.
func TestCaddyfileEnabledForms(t *testing.T) {
	t.Setenv("CDT_EMPTY", "")
	t.Setenv("CDT_ONE", "1")
	t.Setenv("CDT_Y", "y")
	t.Setenv("CDT_NO", "No")
	t.Setenv("CDT_PORT", "25")
	t.Setenv("CDT_ROLE", "celery-main")
	os.Unsetenv("CDT_UNSET_ENABLED")
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"enabled", false},
		{"enabled {$CDT_EMPTY}", false},
		{"enabled {$CDT_EMPTY:true}", false}, // Caddy's default applies only when unset
		{"enabled {$CDT_UNSET_ENABLED:true}", true},
		{"enabled {$CDT_UNSET_ENABLED}", false},
		{`enabled ""`, false},
		{"enabled {$CDT_ONE}", true},
		{"enabled {$CDT_Y}", true},
		{"enabled {$CDT_NO}", false},
		{"enabled {$CDT_PORT}", true},
		{"enabled 0", false},
		{"enabled OFF", false},
		{"enabled !{$CDT_EMPTY}", true},
		{"enabled !{$CDT_ONE}", false},
		{"enabled ! {$CDT_ONE}", false},
		{"enabled !{$CDT_NO}", true},
		{"enabled {$CDT_ROLE} is web celery-main", true},
		{"enabled {$CDT_ROLE} is web celery", false},
		{"enabled !{$CDT_ROLE} is web", true},
		{"enabled {$CDT_EMPTY} is web", false},
		{"enabled !{$CDT_EMPTY} is web", true},
		{"enabled {$CDT_UNSET_ENABLED:web} is web", true},
	} {
		t.Run(tc.line, func(t *testing.T) {
			for _, entry := range []string{"process w ./w", "gunicorn a.wsgi", "schedule s @daily ./s", "release ./r"} {
				cfg, err := adaptDjango(t, "{\n\tdjango {\n\t\t"+entry+" {\n\t\t\t"+tc.line+"\n\t\t}\n\t}\n}")
				if err != nil {
					t.Fatalf("%s: %v", entry, err)
				}
				var got any
				switch word, _, _ := strings.Cut(entry, " "); word {
				case "process":
					got = cfg["processes"].([]any)[0].(map[string]any)["enabled"]
				case "gunicorn":
					got = cfg["gunicorn"].(map[string]any)["enabled"]
				case "schedule":
					got = cfg["schedules"].([]any)[0].(map[string]any)["enabled"]
				case "release":
					got = cfg["release"].([]any)[0].(map[string]any)["enabled"]
				}
				if got != tc.want {
					t.Errorf("%s { %s }: enabled %v, want %v", entry, tc.line, got, tc.want)
				}
			}
		})
	}
}

// TestCaddyfileConditionErrors: forms that cannot be meant as written fail
// `caddy adapt` with the line and what to write instead.
func TestCaddyfileConditionErrors(t *testing.T) {
	t.Setenv("CDT_SPACES", "web worker")
	for _, tc := range []struct{ name, line, want string }{
		{"runtime placeholder", "enabled {env.CELERY}", `Caddyfile:4 - Error during parsing: enabled: "{env.CELERY}" is a placeholder, not replaced in a condition; write {$CELERY}`},
		{"other placeholder", "enabled {vars.x}", `Caddyfile:4 - Error during parsing: enabled: "{vars.x}" is a placeholder, not replaced in a condition; for an environment variable write {$NAME}`},
		{"shell variable", "enabled $CELERY_ENABLED", `Caddyfile:4 - Error during parsing: enabled: "$CELERY_ENABLED" is shell syntax, not replaced in the Caddyfile; write {$CELERY_ENABLED}`},
		{"shell braces", "enabled ${CELERY_ENABLED}", `Caddyfile:4 - Error during parsing: enabled: "${CELERY_ENABLED}" is shell syntax, not replaced in the Caddyfile; write {$CELERY_ENABLED}`},
		{"placeholder among the words", "enabled web is {env.ROLE}", `Caddyfile:4 - Error during parsing: enabled: "{env.ROLE}" is a placeholder`},
		{"value with spaces", "enabled {$CDT_SPACES}", `Caddyfile:4 - Error during parsing: enabled takes one value, got "web" and "worker" (a {$VARIABLE} whose value has spaces gives several`},
		{"is without words", "enabled web is", `Caddyfile:4 - Error during parsing: enabled web is: name the words to compare the value with`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptDjango(t, "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\t"+tc.line+"\n\t\t}\n\t}\n}")
			wantAdaptError(t, err, tc.want)
		})
	}
	for _, tc := range []struct{ name, in, want string }{
		{"if and unless", "release ./m {\n\t\t\tif ./a\n\t\t\tunless ./b\n\t\t}", `Caddyfile:5 - Error during parsing: unless: a release command takes one check (if or unless)`},
		{"if without a command", "release ./m {\n\t\t\tif\n\t\t}", `Caddyfile:4 - Error during parsing: if needs a command, e.g. unless python manage.py migrate --check`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptDjango(t, "{\n\tdjango {\n\t\t"+tc.in+"\n\t}\n}")
			wantAdaptError(t, err, tc.want)
		})
	}
}

// TestReleaseChecks: `if` runs the command when its check exits 0,
// `unless` when it does not; a disabled command is skipped; a check that
// cannot start fails the release (a typo never silently skips a
// migration). Checks run with the command's directory and environment.
func TestReleaseChecks(t *testing.T) {
	a, logs := releaseApp(t)
	on, off := true, false
	mark := func(name string) []string { return []string{"/bin/sh", "-c", "echo x >> " + name} }
	a.Release = []ReleaseCommand{
		{Command: mark("if-true"), If: []string{"/bin/sh", "-c", "test \"$CHECK_ENV\" = here && test -f marker"}, Env: map[string]string{"CHECK_ENV": "here"}},
		{Command: mark("if-false"), If: []string{"/bin/sh", "-c", "exit 1"}},
		{Command: mark("unless-true"), Unless: []string{"/bin/true"}},
		{Command: mark("unless-false"), Unless: []string{"/bin/sh", "-c", "echo pending migrations; exit 1"}},
		{Command: mark("disabled"), Enabled: &off},
		{Command: mark("enabled"), Enabled: &on},
	}
	if err := os.WriteFile(filepath.Join(a.Root, "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := a.provisionReleases(); err != nil {
		t.Fatal(err)
	}
	if err := a.runReleases(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, ran := range map[string]bool{"if-true": true, "if-false": false, "unless-true": false, "unless-false": true, "disabled": false, "enabled": true} {
		if _, err := os.Stat(filepath.Join(a.Root, name)); (err == nil) != ran {
			t.Errorf("%s: ran=%v, want %v", name, err == nil, ran)
		}
	}
	msgs := strings.Join(logMessages(logs), "|")
	for _, want := range []string{"release command skipped by its check", "release command disabled (enabled is false); skipped", "pending migrations"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("log %q lacks %q", msgs, want)
		}
	}

	a.Release = []ReleaseCommand{{Command: mark("never"), Unless: []string{"/nonexistent/check"}}}
	if err := a.provisionReleases(); err != nil {
		t.Fatal(err)
	}
	err := a.runReleases(context.Background())
	if err == nil || !strings.Contains(err.Error(), `its check "unless /nonexistent/check" cannot start`) {
		t.Errorf("error %v, want the check's start failure", err)
	}
	if _, err := os.Stat(filepath.Join(a.Root, "never")); err == nil {
		t.Error("the command ran although its check could not start")
	}
}

// TestReleaseConditionsJSON: a release entry with enabled/if/unless is an
// object in JSON, and reads back the same.
func TestReleaseConditionsJSON(t *testing.T) {
	cfg, err := adaptDjango(t, "{\n\tdjango {\n\t\trelease python manage.py migrate --noinput {\n\t\t\tunless python manage.py migrate --check\n\t\t}\n\t\trelease python manage.py createsuperuser --noinput {\n\t\t\tif sh -c \"test -n \\\"$DJANGO_SUPERUSER_PASSWORD\\\"\"\n\t\t}\n\t}\n}")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cfg["release"])
	want := `[{"command":["python","manage.py","migrate","--noinput"],"unless":["python","manage.py","migrate","--check"]},{"command":["python","manage.py","createsuperuser","--noinput"],"if":["sh","-c","test -n \"$DJANGO_SUPERUSER_PASSWORD\""]}]`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back []ReleaseCommand
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || strings.Join(back[0].Unless, " ") != "python manage.py migrate --check" || back[1].If[0] != "sh" {
		t.Errorf("read back %+v", back)
	}
}

// TestConditionsChooseFromTheEnvironment: an entrypoint script's choices,
// written as Caddyfile lines, with a real Caddy, Gunicorn and Django:
// "any non-empty value" flags, negation, a role compared with words, a
// count of 0, a variable set to the empty string; `migrate` only when
// `migrate --check` says there is something to do (NetBox), and a step
// that only runs when its variable is set (createsuperuser).
func TestConditionsChooseFromTheEnvironment(t *testing.T) {
	requireDjango(t)
	d := newDjangoProject(t)
	if err := os.Remove(d.DB); err != nil { // a new database: migrations to apply
		t.Fatal(err)
	}
	marks := t.TempDir()
	run := func(name string) string {
		return `/bin/sh -c "touch ` + filepath.Join(marks, name) + `; exec sleep 600"`
	}
	d.Env = append(d.Env, "CDT_FLOWER=", "CDT_CONSUMER_DISABLE=1", "CDT_ROLE=celery-main",
		"CDT_WORKERS=0", "CDT_SMTPD_PORT=25", "CDT_BEAT=No", "CDT_MAIL_ENABLED=")
	extra := `
		release ` + systemPython + ` manage.py migrate --noinput {
			unless ` + systemPython + ` manage.py migrate --check
		}
		release ` + systemPython + ` manage.py createsuperuser --noinput {
			enabled {$CDT_SURELY_UNSET_SUPERUSER}
		}
		process flower ` + run("flower") + ` {
			enabled {$CDT_FLOWER}
		}
		process consumer ` + run("consumer") + ` {
			enabled !{$CDT_CONSUMER_DISABLE}
		}
		process celery ` + run("celery") + ` {
			enabled {$CDT_ROLE} is celery-main celery-beat
			startsecs 0
		}
		process web-only ` + run("web-only") + ` {
			enabled {$CDT_ROLE} is web
		}
		process smtpd ` + run("smtpd") + ` {
			enabled {$CDT_SMTPD_PORT}
			startsecs 0
		}
		process beat ` + run("beat") + ` {
			enabled {$CDT_BEAT}
		}
		process mail ` + run("mail") + ` {
			enabled {$CDT_MAIL_ENABLED:true}
		}
		process pulp ` + run("pulp") + ` {
			replicas {$CDT_WORKERS}
		}`
	s := launchDjangoSite(t, d, func(s *djangoSite, admin string) string {
		return s.config(admin, 1, "", extra, "")
	})
	s.waitState(gunicornName, StateRunning, 90*time.Second)
	s.waitState("celery", StateRunning, 30*time.Second)
	s.waitState("smtpd", StateRunning, 30*time.Second)
	sts := s.statuses()
	for _, name := range []string{"flower", "consumer", "web-only", "beat", "mail", "pulp"} {
		if st := sts[name]; st.State != StateDisabled || st.PID != 0 {
			t.Errorf("%s: %+v, want DISABLED", name, st)
		}
	}
	for _, name := range []string{"flower", "consumer", "web-only", "beat", "mail", "pulp"} {
		if _, err := os.Stat(filepath.Join(marks, name)); err == nil {
			t.Errorf("%s is disabled but ran", name)
		}
	}
	// migrate ran (the database is new), and Django serves from it
	s.waitLog(30*time.Second, "migrate to run", msgIs("release command runs: its check says so"))
	if code, body := httpGet(s.url("/")); code != 200 {
		t.Errorf("GET / after migrate: %d %.200s", code, body)
	}
	s.waitLog(10*time.Second, "createsuperuser to be skipped", msgIs("release command disabled (enabled is false); skipped"))

	// a deploy: nothing to migrate now, so migrate is skipped
	if code, body := s.post("/django/reload"); code != 200 {
		t.Fatalf("deploy: %d %s", code, body)
	}
	skipped := s.waitLog(30*time.Second, "migrate to be skipped on the deploy", msgIs("release command skipped by its check"))
	if skipped.num("check_exit") != 0 || !strings.Contains(skipped.str("check"), "unless "+systemPython+" manage.py migrate --check") {
		t.Errorf("skip entry: %v", skipped)
	}
	if n := len(s.entries(msgIs("running release command"))); n != 1 {
		t.Errorf("release commands run %d times, want 1 (migrate at boot only)", n)
	}
}
