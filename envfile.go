package caddydjango

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The processes' environment: Caddy's, then the app's env, then its
// env_file (a dotenv file), then each process's own env.

// sortedKeys returns m's keys in order (environments are built
// deterministically: a process's definition, its key, includes them).
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// setEnv returns env with key set to val (any earlier value removed); env
// itself is not modified.
func setEnv(env []string, key, val string) []string {
	prefix := key + "="
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, prefix) {
			out = append(out, kv)
		}
	}
	return append(out, prefix+val)
}

// checkedEnvValue expands the placeholders in the value of env key and checks
// that a process can be given the pair: execve's strings end at a NUL, and
// os/exec refuses one (the process would fail at every start).
func checkedEnvValue(key, val string) (string, error) {
	if key == "" || strings.ContainsAny(key, "=\x00") {
		return "", fmt.Errorf("env %q: not a valid variable name", key)
	}
	v, err := expandPlaceholders("env "+key, val)
	if err != nil {
		return "", err
	}
	if strings.IndexByte(v, 0) >= 0 {
		return "", fmt.Errorf("env %s: a NUL byte in its value", key)
	}
	return v, nil
}

// readEnvFile reads a dotenv file: KEY=VALUE per line, blank lines and
// # comments ignored, optional `export ` prefix, values optionally quoted.
func readEnvFile(path string) ([][2]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE", path, i+1)
		}
		v = strings.TrimSpace(v)
		switch {
		case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
			if uq, err := strconv.Unquote(v); err == nil {
				v = uq
			} else {
				v = v[1 : len(v)-1]
			}
		case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
			v = v[1 : len(v)-1]
		default:
			if j := strings.Index(v, " #"); j >= 0 {
				v = strings.TrimSpace(v[:j])
			}
		}
		if strings.IndexByte(k, 0) >= 0 || strings.IndexByte(v, 0) >= 0 {
			// no process can be started with it (execve's strings end at NUL)
			return nil, fmt.Errorf("%s:%d: a NUL byte in %q", path, i+1, k)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
