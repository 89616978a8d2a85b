package caddydjango

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// TestEmptyVariableIsNamed: an option left without a value because a
// {$VAR} on its line expanded to nothing says which variable and why
// (unset, set to "", empty default), read back from the Caddyfile; a
// Caddyfile that cannot be read back (posted to the admin API) gets the
// general note. Caddy's own message would be "wrong argument count".
func TestEmptyVariableIsNamed(t *testing.T) {
	os.Unsetenv("CDT_GUNICORN_ARGS")
	t.Setenv("CDT_EMPTY_ARGS", "")
	t.Setenv("CDT_WORKERS", "")
	os.Unsetenv("CDT_ROOT")
	dir := t.TempDir()
	for _, tc := range []struct{ name, block, want string }{
		{"unset", "gunicorn a.wsgi {\n\t\t\targs {$CDT_GUNICORN_ARGS}\n\t\t}",
			`Caddyfile:4 - Error during parsing: args needs at least one argument ({$CDT_GUNICORN_ARGS}: CDT_GUNICORN_ARGS is not set)`},
		{"set to the empty string", "gunicorn a.wsgi {\n\t\t\targs {$CDT_EMPTY_ARGS:--timeout 60}\n\t\t}",
			`Caddyfile:4 - Error during parsing: args needs at least one argument ({$CDT_EMPTY_ARGS:--timeout 60}: CDT_EMPTY_ARGS is set to the empty string)`},
		{"workers", "gunicorn a.wsgi {\n\t\t\tworkers {$CDT_WORKERS}\n\t\t}",
			`Caddyfile:4 - Error during parsing: workers needs a value ({$CDT_WORKERS}: CDT_WORKERS is set to the empty string)`},
		{"empty default", "root {$CDT_ROOT:}",
			`Caddyfile:3 - Error during parsing: root needs a value ({$CDT_ROOT:}: CDT_ROOT is not set and the default is empty)`},
		{"env", "env SENTRY_DSN {$CDT_EMPTY_ARGS}",
			`Caddyfile:3 - Error during parsing: env needs a name and a value: SENTRY_DSN has none (write "{$VAR}" in quotes to pass an empty value) ({$CDT_EMPTY_ARGS}: CDT_EMPTY_ARGS is set to the empty string)`},
		{"no variable", "gunicorn a.wsgi {\n\t\t\targs\n\t\t}",
			`Caddyfile:4 - Error during parsing: args needs at least one argument`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			src := "{\n\tdjango {\n\t\t" + tc.block + "\n\t}\n}\n"
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(src), map[string]any{"filename": path})
			wantAdaptError(t, err, strings.Replace(tc.want, "Caddyfile:", path+":", 1))
			if tc.name == "no variable" && err != nil && strings.Contains(err.Error(), "{$") {
				t.Errorf("a line without variables mentions them: %v", err)
			}
		})
	}
	// quoted, an empty value is a value
	cfg, err := adaptDjango(t, "{\n\tdjango {\n\t\tenv SENTRY_DSN \"{$CDT_EMPTY_ARGS}\"\n\t}\n}")
	if err != nil || cfg["env"].(map[string]any)["SENTRY_DSN"] != "" {
		t.Errorf(`env SENTRY_DSN "{$CDT_EMPTY_ARGS}": %v %v, want an empty value`, cfg["env"], err)
	}
	// not on disk (a Caddyfile posted to /load is named "Caddyfile")
	_, err = adaptDjango(t, "{\n\tdjango {\n\t\tgunicorn a.wsgi {\n\t\t\targs {$CDT_GUNICORN_ARGS}\n\t\t}\n\t}\n}")
	wantAdaptError(t, err, `Caddyfile:4 - Error during parsing: args needs at least one argument (a {$VARIABLE} that is unset or empty leaves none)`)
}

// TestCaddyAdaptRefusesBadForms: the real `caddy adapt` refuses the forms
// that cannot mean what they say, with the file, the line and plain words:
// a condition written as a runtime placeholder, a variable that left an
// option empty (named, as read back from the file), an alias outside
// STATIC_ROOT.
func TestCaddyAdaptRefusesBadForms(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, caddyfile, want string }{
		{"placeholder in enabled", "{\n\tdjango {\n\t\tprocess celery celery -A config worker {\n\t\t\tenabled {env.CELERY_ENABLED}\n\t\t}\n\t}\n}\n",
			`enabled: "{env.CELERY_ENABLED}" is a placeholder, not replaced in a condition; write {$CELERY_ENABLED}`},
		{"unset variable", "{\n\tdjango {\n\t\tgunicorn config.wsgi:application {\n\t\t\targs {$CDT_UNSET_GUNICORN_ARGS}\n\t\t}\n\t}\n}\n",
			`args needs at least one argument ({$CDT_UNSET_GUNICORN_ARGS}: CDT_UNSET_GUNICORN_ARGS is not set)`},
		{"empty variable", "{\n\tdjango {\n\t\tgunicorn config.wsgi:application {\n\t\t\tworkers {$CDT_EMPTY_WORKERS:auto}\n\t\t}\n\t}\n}\n",
			`workers needs a value ({$CDT_EMPTY_WORKERS:auto}: CDT_EMPTY_WORKERS is set to the empty string)`},
		{"alias outside STATIC_ROOT", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\talias /favicon.ico ../../etc/passwd\n\t\t}\n\t\tupstream 127.0.0.1:8000\n\t}\n}\n",
			`alias /favicon.ico ../../etc/passwd: the file is outside STATIC_ROOT`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".Caddyfile")
			if err := os.WriteFile(path, []byte(tc.caddyfile), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(caddyBinary(t), "adapt", "--config", path, "--adapter", "caddyfile")
			cmd.Env = append(os.Environ(), "CDT_EMPTY_WORKERS=")
			b, err := cmd.CombinedOutput()
			out := strings.ReplaceAll(string(b), `\"`, `"`) // Caddy logs the error as JSON
			if err == nil || !strings.Contains(out, tc.want) || !strings.Contains(out, path+":4") {
				t.Errorf("caddy adapt: %v\n%s\nwant %q at %s:4", err, out, tc.want, path)
			}
		})
	}
}
