package caddydjango

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// envDumper is a process command that writes its environment as JSON to the
// file named by its argument, then stays up.
const envDumper = "/usr/bin/python3 -c `import json,os,sys,time; p=sys.argv[1]; " +
	"open(p+'.tmp','w').write(json.dumps(dict(os.environ, CWD=os.getcwd()))); os.rename(p+'.tmp',p); time.sleep(1000)`"

// readEnvDump waits for the file an envDumper writes and decodes it.
func readEnvDump(t *testing.T, path string) map[string]string {
	t.Helper()
	var env map[string]string
	waitFor(t, 30*time.Second, func() bool {
		b, err := os.ReadFile(path)
		return err == nil && json.Unmarshal(b, &env) == nil
	}, path)
	return env
}

// Environment values with braces reach the process as written; only Caddy's
// global placeholders are replaced (issue 11, item 1: `{"a":1}` arrived
// empty, `x{unknown.thing}y` as `xy`, a process's `a{b}c` as `ac`).
func TestEnvValuesKeepBraces(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(systemPython); err != nil {
		t.Skip("no " + systemPython)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub{1}"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("SECRET=file{s}ecret\nFILE_JSON={\"f\":2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	own, plain := filepath.Join(dir, "own.json"), filepath.Join(dir, "plain.json")
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, fmt.Sprintf(`
		root %s
		env JSON_CFG `+"`"+`{"a":1}`+"`"+`
		env MIXED x{unknown.thing}y
		env KNOWN {env.CADDY_DJANGO_TEST_KNOWN}/{system.os}
		env ESCAPED \{env.CADDY_DJANGO_TEST_KNOWN}
		env_file .env
		process own %s %s {
			env SECRET a{b}c
		}
		process plain %s %s {
			dir sub{1}
		}`, dir, envDumper, own, envDumper, plain))
	}, "CADDY_DJANGO_TEST_KNOWN=from-caddy")
	c.waitState("own", StateRunning, 30*time.Second)
	c.waitState("plain", StateRunning, 30*time.Second)

	wantApp := map[string]string{
		"JSON_CFG":  `{"a":1}`,
		"MIXED":     `x{unknown.thing}y`,
		"KNOWN":     "from-caddy/" + runtime.GOOS,
		"ESCAPED":   "{env.CADDY_DJANGO_TEST_KNOWN}",
		"FILE_JSON": `{"f":2}`,
	}
	for path, w := range map[string][2]string{own: {"a{b}c", dir}, plain: {"file{s}ecret", filepath.Join(dir, "sub{1}")}} {
		env := readEnvDump(t, path)
		want := map[string]string{"SECRET": w[0], "CWD": w[1]}
		for k, v := range wantApp {
			want[k] = v
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s: %s = %q, want %q", filepath.Base(path), k, env[k], v)
			}
		}
	}
}
