//go:build unix

package caddydjango

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest/observer"
)

// lookupEnvIn returns name's value in env ("", false when absent).
func lookupEnvIn(env []string, name string) (string, bool) {
	for _, kv := range slices.Backward(env) {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// TestEnvFromFiles: NAME_FILE sets NAME from the file, one trailing newline
// removed, unless NAME is set (non-empty); prefixes limit which variables
// count; a CA bundle variable is left alone; nothing is read without
// env_from_files.
func TestEnvFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret := "s3cr3t with spaces and = signs\nand a second line"
	env := []string{
		"DJANGO_SECRET_KEY_FILE=" + write("key", secret+"\n"),
		"DB_PASSWORD_FILE=" + write("db", "pw\r\n"),
		"EMAIL_PASSWORD_FILE=" + write("mail", "from-file"),
		"EMAIL_PASSWORD=already-set",
		"EMPTY_VALUE_FILE=" + write("empty", "x"),
		"EMPTY_VALUE=",
		"TWO_NEWLINES_FILE=" + write("two", "v\n\n"),
		"SSL_CERT_FILE=/nonexistent/ca.pem",
		"CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE=/nonexistent/ca.pem",
		"TF_CLI_CONFIG_FILE=/nonexistent/terraformrc",
		"AWS_WEB_IDENTITY_TOKEN_FILE=/nonexistent/token",
		"UNUSED_FILE=",
		"_FILE=/nonexistent",
	}
	log, logs := observedLogger()
	a := &App{EnvFromFiles: &EnvFromFiles{}, logger: log}
	out, err := a.envFromFiles(env, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"DJANGO_SECRET_KEY": secret, "DB_PASSWORD": "pw", "EMAIL_PASSWORD": "already-set",
		"EMPTY_VALUE": "x", "TWO_NEWLINES": "v\n",
	} {
		if got, _ := lookupEnvIn(out, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, name := range []string{"SSL_CERT", "CLOUDSDK_CORE_CUSTOM_CA_CERTS", "TF_CLI_CONFIG", "AWS_WEB_IDENTITY_TOKEN", "UNUSED", ""} {
		if _, ok := lookupEnvIn(out, name); ok {
			t.Errorf("%s set from a file", name)
		}
	}
	if _, ok := lookupEnvIn(env, "DJANGO_SECRET_KEY"); ok {
		t.Error("the input environment was modified")
	}
	assertNoSecretLogged(t, logs, secret)
	if e := logs.FilterMessage("environment variables set from files (env_from_files)").All(); len(e) != 1 {
		t.Errorf("want one log entry naming the variables, got %v", logMessages(logs))
	}

	a.EnvFromFiles.Names = []string{"DJANGO_*", "DB_PASSWORD"}
	out, err = a.envFromFiles(env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lookupEnvIn(out, "EMPTY_VALUE"); !ok {
		t.Fatal("EMPTY_VALUE gone")
	}
	if v, _ := lookupEnvIn(out, "EMPTY_VALUE"); v != "" {
		t.Errorf("EMPTY_VALUE_FILE read although no name matches: %q", v)
	}
	for name, want := range map[string]string{"DB_PASSWORD": "pw", "DJANGO_SECRET_KEY": secret} {
		if v, _ := lookupEnvIn(out, name); v != want {
			t.Errorf("%s = %q with names %q", name, v, a.EnvFromFiles.Names)
		}
	}

	a.EnvFromFiles = nil
	if out, _ := a.envFromFiles(env, nil); !slices.Equal(out, env) {
		t.Error("env changed without env_from_files")
	}
}

// TestEnvFromFilesErrors: a missing, unreadable or unusable file is an
// error that names the variable and the file, never the content.
func TestEnvFromFilesErrors(t *testing.T) {
	dir := t.TempDir()
	secretPath := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretPath, []byte("topsecret\x00value"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("topsecret", 20000)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, env, want string }{
		{"missing", "API_TOKEN_FILE=" + filepath.Join(dir, "nope"), "env_from_files: API_TOKEN_FILE: open " + filepath.Join(dir, "nope") + ": no such file or directory" +
			" (if API_TOKEN_FILE does not name a secret, list those that do: env_from_files DJANGO_SECRET_KEY PAPERLESS_* ...)"},
		{"directory", "API_TOKEN_FILE=" + dir, "env_from_files: API_TOKEN_FILE: " + dir + " is not a regular file"},
		{"NUL byte", "API_TOKEN_FILE=" + secretPath, "env_from_files: API_TOKEN_FILE: " + secretPath + " contains a NUL byte, which an environment variable cannot hold"},
		{"too large", "API_TOKEN_FILE=" + big, "env_from_files: API_TOKEN_FILE: " + big + " is larger than an environment variable may be (128 KiB)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &App{EnvFromFiles: &EnvFromFiles{}}
			if tc.name != "missing" {
				a.EnvFromFiles.Names = []string{"API_TOKEN"}
			}
			_, err := a.envFromFiles([]string{tc.env}, nil)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	// unreadable: without permission (root reads any file: then a file
	// whose read fails, /proc/self/mem at offset 0)
	unreadable, want := secretPath, "API_TOKEN_FILE: open "+secretPath+": permission denied"
	if os.Geteuid() == 0 {
		unreadable, want = "/proc/self/mem", "API_TOKEN_FILE: read /proc/self/mem: input/output error"
	} else if err := os.Chmod(secretPath, 0); err != nil {
		t.Fatal(err)
	}
	a := &App{EnvFromFiles: &EnvFromFiles{Names: []string{"API_TOKEN"}}}
	if _, err := a.envFromFiles([]string{"API_TOKEN_FILE=" + unreadable}, nil); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("unreadable: %v, want %q", err, want)
	}
}

// TestEnvFromFilesInAProcessEnv: an entry's own `env NAME_FILE path` is
// read for that entry; the app's variables stay as they are.
func TestEnvFromFilesInAProcessEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &App{Root: "/srv", EnvFromFiles: &EnvFromFiles{}, env: []string{"PATH=/bin"}}
	p := &ProcessConfig{Name: "w", Command: []string{"./w"}, ProcessOptions: ProcessOptions{Env: map[string]string{"WORKER_TOKEN_FILE": path}}}
	specs, err := p.specs(a)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := lookupEnvIn(specs[0].Env, "WORKER_TOKEN"); v != "tok" {
		t.Errorf("WORKER_TOKEN = %q in %q", v, specs[0].Env)
	}
	if _, ok := lookupEnvIn(a.env, "WORKER_TOKEN"); ok {
		t.Error("the app's environment was changed")
	}
}

// TestCaddyfileEnvFromFiles: `env_from_files [name|prefix*...]` adapts to
// an object (names listed when given); twice, a _FILE name or a bad name
// is an error.
func TestCaddyfileEnvFromFiles(t *testing.T) {
	for in, want := range map[string]string{
		"env_from_files": `{}`,
		"env_from_files PAPERLESS_* DJANGO_SECRET_KEY": `{"names":["PAPERLESS_*","DJANGO_SECRET_KEY"]}`,
	} {
		cfg, err := adaptDjango(t, "{\n\tdjango {\n\t\t"+in+"\n\t}\n}")
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(cfg["env_from_files"]); string(b) != want {
			t.Errorf("%s: %s, want %s", in, b, want)
		}
	}
	for in, want := range map[string]string{
		"env_from_files\n\t\tenv_from_files A_*": `Caddyfile:4 - Error during parsing: env_from_files is set twice`,
		"env_from_files DJANGO_SECRET_KEY_FILE":  `Caddyfile:3 - Error during parsing: env_from_files: "DJANGO_SECRET_KEY_FILE": name the variable to set (DJANGO_SECRET_KEY), which is read from DJANGO_SECRET_KEY_FILE`,
		"env_from_files {env.X}":                 `Caddyfile:3 - Error during parsing: env_from_files: "{env.X}": want a variable name`,
	} {
		_, err := adaptDjango(t, "{\n\tdjango {\n\t\t"+in+"\n\t}\n}")
		wantAdaptError(t, err, want)
	}
}

// assertNoSecretLogged fails when a log entry's message or field shows
// secret.
func assertNoSecretLogged(t *testing.T, logs *observer.ObservedLogs, secret string) {
	t.Helper()
	for _, e := range logs.All() {
		b, _ := json.Marshal(e.ContextMap())
		if strings.Contains(e.Message, secret) || strings.Contains(string(b), secret) {
			t.Errorf("logged the secret: %s %s", e.Message, b)
		}
	}
}

// TestEnvFromFilesWithDjango: a real Caddy with env_from_files gives Django
// its SECRET_KEY from DJANGO_SECRET_KEY_FILE (read back through Django's
// settings by a release command) and a worker its token from a file named
// in its own env; the secrets appear nowhere in Caddy's output or config.
// A file that is missing or a directory stops the config with an error
// naming the variable.
func TestEnvFromFilesWithDjango(t *testing.T) {
	requireDjango(t)
	d := newDjangoProject(t)
	secrets := t.TempDir()
	key, token := "django-key-"+strings.Repeat("k9", 20), "worker-token-"+strings.Repeat("t7", 10)
	mustWrite(t, filepath.Join(secrets, "django_secret_key"), key+"\n")
	mustWrite(t, filepath.Join(secrets, "worker_token"), token+"\n")
	seen := filepath.Join(t.TempDir(), "seen")
	d.Env = append(d.Env, "DJANGO_SECRET_KEY_FILE="+filepath.Join(secrets, "django_secret_key"))
	extra := `
		env_from_files DJANGO_SECRET_KEY WORKER_*
		release ` + systemPython + ` manage.py shell -c "from django.conf import settings; open('` + seen + `.key', 'w').write(settings.SECRET_KEY)"
		process worker /bin/sh -c "printf %s \"$WORKER_TOKEN\" > ` + seen + `.token; exec sleep 600" {
			env WORKER_TOKEN_FILE ` + filepath.Join(secrets, "worker_token") + `
			startsecs 0
		}`
	s := launchDjangoSite(t, d, func(s *djangoSite, admin string) string {
		return s.config(admin, 1, "", extra, "")
	})
	s.waitState(gunicornName, StateRunning, 90*time.Second)
	s.waitState("worker", StateRunning, 30*time.Second)
	waitFor(t, 30*time.Second, func() bool {
		a, errA := os.ReadFile(seen + ".key")
		b, errB := os.ReadFile(seen + ".token")
		return errA == nil && errB == nil && len(a) > 0 && len(b) > 0
	}, "the release command and the worker to write what they see")
	if got := string(mustRead(t, seen+".key")); got != key {
		t.Errorf("Django's SECRET_KEY = %q, want the file's content %q", got, key)
	}
	if got := string(mustRead(t, seen+".token")); got != token {
		t.Errorf("the worker's WORKER_TOKEN = %q, want %q", got, token)
	}
	resp, err := adminClient.Get("http://" + s.admin + "/config/")
	if err != nil {
		t.Fatal(err)
	}
	config := readAll(t, resp)
	s.signalAndWait(syscall.SIGTERM, 60*time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	out, _ := json.Marshal(s.logs)
	for what, text := range map[string]string{"Caddy's log": string(out) + strings.Join(s.other, ""), "the config (GET /config/)": config} {
		for _, secret := range []string{key, token} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows a secret", what)
			}
		}
	}
	if !strings.Contains(string(out), `"variables":["DJANGO_SECRET_KEY"]`) {
		t.Errorf("no log entry names the variable set from a file")
	}

	// a missing file and a directory: `caddy validate` and `caddy run` fail, naming the variable
	for name, path := range map[string]string{"missing": filepath.Join(secrets, "nope"), "directory": secrets} {
		dir := t.TempDir()
		cfg := writeCaddyfile(t, dir, globalBlock("127.0.0.1:0", "\t\troot "+d.Root+"\n\t\tenv_from_files\n"))
		for _, sub := range []string{"validate", "run"} {
			cmd := exec.Command(caddyBinary(t), sub, "--config", cfg, "--adapter", "caddyfile")
			cmd.Env = append(os.Environ(), "DATABASE_PASSWORD_FILE="+path)
			outb, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(outb), "env_from_files: DATABASE_PASSWORD_FILE: ") || !strings.Contains(string(outb), path) {
				t.Errorf("%s file, caddy %s: %v\n%s", name, sub, err, outb)
			}
		}
	}
}
