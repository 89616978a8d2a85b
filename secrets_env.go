package caddydjango

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
)

// Secrets from files, the Docker and Kubernetes convention
// (`DJANGO_SECRET_KEY_FILE=/run/secrets/django_secret_key`): with
// env_from_files, every environment variable NAME_FILE sets NAME to the
// file's content, when the config is loaded (Provision: reading a file
// starts nothing). The values never appear in a log, an error or the JSON
// config; they are in the processes' environment, and so in what `GET
// /django/exec-env` returns for `caddy django exec`.

// EnvFromFiles turns on secrets from files: each environment variable
// NAME_FILE (from Caddy's environment, `env`, `env_file`, or an entry's
// own `env`) sets NAME to the content of the file it names, with one
// trailing newline removed, unless NAME is already set to a non-empty
// value. A missing, unreadable or oversized file stops the config from
// loading with an error that names the variable and the file (never the
// content). Variables that name a file for a program to read itself are
// left alone: names ending in CERT_FILE, CERTS_FILE or CONFIG_FILE
// (SSL_CERT_FILE, a CA bundle; AWS_CONFIG_FILE, TF_CLI_CONFIG_FILE), and
// AWS_SHARED_CREDENTIALS_FILE, AWS_WEB_IDENTITY_TOKEN_FILE and
// AZURE_FEDERATED_TOKEN_FILE.
type EnvFromFiles struct {
	// Names, when set, limits it to these variables: each a NAME (set
	// from NAME_FILE), or a prefix ending in `*` (`PAPERLESS_*`: every
	// PAPERLESS_…_FILE). Default: every NAME_FILE (but the program files
	// above).
	Names []string `json:"names,omitempty"`
}

// maxSecretBytes bounds a secret: Linux refuses to start a program with a
// single environment string longer than 128 KiB (MAX_ARG_STRLEN).
const maxSecretBytes = 128<<10 - 1

// notSecretFiles are `_FILE` variables that name files programs read
// themselves (cloud SDKs' credentials and tokens): not secrets to load.
// Certificates and configuration files are told by their names' ends
// (notSecretSuffixes): base images set such variables (SSL_CERT_FILE,
// NIX_SSL_CERT_FILE, CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE, TF_CLI_CONFIG_FILE
// on the machine these tests first ran on), and a CA bundle is larger than
// an environment variable may be.
var notSecretFiles = []string{
	"AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AZURE_FEDERATED_TOKEN_FILE",
}

var notSecretSuffixes = []string{"CERT_FILE", "CERTS_FILE", "CONFIG_FILE"}

// envFromFiles returns env with each NAME set from its NAME_FILE (see
// EnvFromFiles); only, when not nil, limits it to the NAME_FILE variables
// among its keys (an entry's own env). env itself is not modified.
func (a *App) envFromFiles(env []string, only map[string]string) ([]string, error) {
	if a.EnvFromFiles == nil {
		return env, nil
	}
	for _, n := range a.EnvFromFiles.Names {
		if err := checkSecretName(n); err != nil {
			return nil, fmt.Errorf("env_from_files: %v", err)
		}
	}
	values := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			values[k] = v
		}
	}
	var set []string
	for _, name := range sortedKeys(values) {
		if only != nil {
			if _, ok := only[name]; !ok {
				continue
			}
		}
		target, ok := a.EnvFromFiles.secretName(name)
		if !ok || values[name] == "" || values[target] != "" {
			continue
		}
		v, err := readSecret(values[name])
		if err != nil {
			hint := ""
			if len(a.EnvFromFiles.Names) == 0 {
				hint = fmt.Sprintf(" (if %s does not name a secret, list those that do: env_from_files DJANGO_SECRET_KEY PAPERLESS_* ...)", name)
			}
			return nil, fmt.Errorf("env_from_files: %s: %v%s", name, err, hint)
		}
		env = setEnv(env, target, v)
		set = append(set, target)
	}
	if len(set) > 0 && a.logger != nil {
		a.logger.Info("environment variables set from files (env_from_files)", zap.Strings("variables", set))
	}
	return env, nil
}

// secretName is the variable that name (NAME_FILE) sets, when it is one
// to load.
func (e *EnvFromFiles) secretName(name string) (string, bool) {
	target, ok := strings.CutSuffix(name, "_FILE")
	if !ok || target == "" || slices.Contains(notSecretFiles, name) ||
		slices.ContainsFunc(notSecretSuffixes, func(sfx string) bool { return strings.HasSuffix(name, sfx) }) {
		return "", false
	}
	if len(e.Names) > 0 && !slices.ContainsFunc(e.Names, func(n string) bool {
		prefix, star := strings.CutSuffix(n, "*")
		return target == n || star && strings.HasPrefix(target, prefix)
	}) {
		return "", false
	}
	return target, true
}

// readSecret reads a secret file: its content without one trailing
// newline. Errors name the file, never its content.
func readSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+2)) // + a trailing \r\n
	if err != nil {
		return "", err
	}
	s := strings.TrimSuffix(string(b), "\n")
	s = strings.TrimSuffix(s, "\r")
	switch {
	case len(s) > maxSecretBytes:
		return "", fmt.Errorf("%s is larger than an environment variable may be (128 KiB)", path)
	case strings.IndexByte(s, 0) >= 0:
		return "", fmt.Errorf("%s contains a NUL byte, which an environment variable cannot hold", path)
	}
	return s, nil
}

// unmarshalEnvFromFiles reads `env_from_files [<name>|<prefix>*...]` at
// the dispenser's cursor.
func (a *App) unmarshalEnvFromFiles(d *caddyfile.Dispenser) error {
	if a.EnvFromFiles != nil {
		return d.Err("env_from_files is set twice; list every variable on one line")
	}
	a.EnvFromFiles = &EnvFromFiles{Names: d.RemainingArgs()}
	for _, n := range a.EnvFromFiles.Names {
		if err := checkSecretName(n); err != nil {
			return d.Errf("env_from_files: %v", err)
		}
	}
	return nil
}

// checkSecretName checks an env_from_files name: a variable (the one to
// set, not its _FILE) or a prefix ending in *.
func checkSecretName(n string) error {
	base := strings.TrimSuffix(n, "*")
	switch {
	case base == "" || strings.ContainsAny(base, "=*{}$ \t"):
		return fmt.Errorf("%q: want a variable name (DJANGO_SECRET_KEY) or a prefix ending in * (PAPERLESS_*)", n)
	case strings.HasSuffix(n, "_FILE"):
		return fmt.Errorf("%q: name the variable to set (%s), which is read from %s", n, strings.TrimSuffix(n, "_FILE"), n)
	}
	return nil
}
