package caddydjango

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/cgroup"
	"github.com/caddyserver/caddy/v2"
)

// Tests of max_memory's value: a size or a share of the container's
// memory, refused when it makes no sense, and a share resolved from the
// control group (or, without a limit there, the machine's memory, with a
// warning) when Caddy starts.

func TestParseMaxMemory(t *testing.T) {
	for _, tc := range []struct {
		in      string
		bytes   int64
		percent float64
		err     string
	}{
		{in: ""},
		{in: "512MiB", bytes: 512 << 20},
		{in: "1GB", bytes: 1e9},
		{in: "1.5GiB", bytes: 3 << 29},
		{in: "80%", percent: 80},
		{in: "12.5%", percent: 12.5},
		{in: "100%", percent: 100},
		{in: "0", err: `max_memory: "0" must be above zero`},
		{in: "0MB", err: `max_memory: "0MB" must be above zero`},
		{in: "0%", err: `max_memory: "0%" must be above 0%`},
		{in: "150%", err: `max_memory: "150%" is more than the container's memory: a share must be at most 100%`},
		{in: "-5MB", err: `max_memory: "-5MB" is not a size or a percentage (examples: 512MiB, 1GB, 80%)`},
		{in: "-5%", err: `max_memory: "-5%" must be above 0%`},
		{in: "lots", err: `max_memory: "lots" is not a size or a percentage`},
		{in: "NaN%", err: `max_memory: "NaN%" is not a size or a percentage`},
	} {
		got, err := parseMaxMemory(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseMaxMemory(%q) = %+v, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got.bytes != tc.bytes || got.percent != tc.percent {
			t.Errorf("parseMaxMemory(%q) = %+v, %v; want %d bytes, %g%%", tc.in, got, err, tc.bytes, tc.percent)
		}
	}
}

// TestMaxMemoryCaddyfile: max_memory on an app server and a process adapts
// to the JSON field; a bad value fails `caddy adapt` with the line.
func TestMaxMemoryCaddyfile(t *testing.T) {
	got, err := adaptDjango(t, `{
	django {
		gunicorn config.wsgi:application {
			max_memory 512MiB
		}
		process worker ./manage.py db_worker {
			replicas 2
			max_memory 20%
		}
	}
}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	for _, want := range []string{`"gunicorn":{"app":"config.wsgi:application","max_memory":"512MiB"}`, `"max_memory":"20%","name":"worker","replicas":2`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("adapted to %s\nwant %s in it", b, want)
		}
	}
	for _, tc := range []struct{ name, value, want string }{
		{"zero", "0", `Caddyfile:4 - Error during parsing: max_memory: "0" must be above zero`},
		{"over 100%", "150%", `Caddyfile:4 - Error during parsing: max_memory: "150%" is more than the container's memory: a share must be at most 100%`},
		{"negative", "-1GB", `Caddyfile:4 - Error during parsing: max_memory: "-1GB" is not a size or a percentage`},
		{"missing", "", `Caddyfile:4 - Error during parsing: max_memory needs a value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptDjango(t, "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\tmax_memory "+tc.value+"\n\t\t}\n\t}\n}")
			wantAdaptError(t, err, tc.want)
		})
	}
}

// TestMaxMemoryJSONErrors: the same values in a JSON config fail `caddy
// validate`, which reads nothing of the machine.
func TestMaxMemoryJSONErrors(t *testing.T) {
	for _, tc := range []struct{ name, app, want string }{
		{"process", `{"processes":[{"name":"w","command":["sleep","1"],"max_memory":"0"}]}`, `process "w": max_memory: "0" must be above zero`},
		{"app server", `{"gunicorn":{"app":"a.wsgi","max_memory":"101%"}}`, `gunicorn: max_memory: "101%" is more than the container's memory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg caddy.Config
			raw := `{"admin":{"disabled":true},"apps":{"django":` + tc.app + `}}`
			if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
				t.Fatal(err)
			}
			if err := caddy.Validate(&cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestMaxMemoryShareWithoutCgroupLimit: a share (50%) where the control
// group sets no memory limit is of the machine's memory, with a warning
// saying so (on a machine with a limit, it is of that limit, without a
// warning).
func TestMaxMemoryShareWithoutCgroupLimit(t *testing.T) {
	t.Parallel()
	lim, err := cgroup.Memory()
	if err != nil {
		t.Fatal(err)
	}
	c := startWithDjango(t, t.TempDir(), "\t\tprocess idle sleep 600 {\n\t\t\tmax_memory 50%\n\t\t}")
	st := c.waitState("idle", StateRunning, 30*time.Second)
	warned := c.entries(msgIs("max_memory given as a share: no container memory limit was found, so the share is of the machine's memory"))
	if lim.Set() {
		if want := int64(lim.Value / 2); st.MaxMemory != want || len(warned) != 0 {
			t.Errorf("max_memory 50%% of the cgroup limit %v: status %d, warnings %v; want %d and no warning", lim.Value, st.MaxMemory, warned, want)
		}
		return
	}
	if len(warned) != 1 || !strings.Contains(warned[0].str("cgroup"), "no memory limit") || warned[0].str("machine_memory") == "" {
		t.Errorf("want one warning naming the cgroup reading and the machine's memory, got %v", warned)
	}
	if want := machineMemory() / 2; st.MaxMemory != want {
		t.Errorf("status max_memory = %d, want %d (half the machine's memory)", st.MaxMemory, want)
	}
	if e := c.waitLog(10*time.Second, "the limit logged", msgIs("memory limit", isProcess("idle"))); !strings.Contains(e.str("of"), "the machine's memory") {
		t.Errorf("memory limit log %v: want it to say it is of the machine's memory", e)
	}
}

// TestMaxMemoryShareOfCgroup: Caddy run in a real child cgroup with a
// memory limit (as in a container) resolves max_memory 25% from it.
func TestMaxMemoryShareOfCgroup(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("making a cgroup needs root")
	}
	dir, limitFile, err := cgroup.Reader{}.MemoryDir()
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("no memory cgroup to make a child in: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	child, err := os.MkdirTemp(dir, "caddy-django-test-")
	if err != nil {
		t.Skipf("cannot make a child cgroup in %s (read-only cgroup mount?): %v", dir, err)
	}
	// registered first, so it runs after Caddy has stopped (cleanups run
	// last in, first out): a cgroup is removed once it is empty
	t.Cleanup(func() {
		deadline := time.Now().Add(30 * time.Second)
		for os.Remove(child) != nil && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := os.WriteFile(filepath.Join(child, limitFile), []byte(strconv.Itoa(512<<20)), 0); err != nil {
		t.Fatal(err)
	}
	join := []string{"/bin/sh", "-c", fmt.Sprintf(`echo $$ > %s/cgroup.procs && exec "$@"`, child), "sh"}
	c := startCaddyVia(t, join, t.TempDir(), func(admin string) string {
		return globalBlock(admin, "\t\tprocess idle sleep 600 {\n\t\t\tmax_memory 25%\n\t\t}")
	})
	st := c.waitState("idle", StateRunning, 30*time.Second)
	if st.MaxMemory != 128<<20 {
		t.Errorf("status max_memory = %d, want %d (25%% of the cgroup's 512 MiB)", st.MaxMemory, 128<<20)
	}
	e := c.waitLog(10*time.Second, "the limit logged", msgIs("memory limit", isProcess("idle")))
	if !strings.Contains(e.str("of"), filepath.Base(child)) || e.str("limit") != "128 MiB" {
		t.Errorf("memory limit log %v: want 128 MiB of the cgroup %s", e, child)
	}
	if warned := c.entries(msgIs("max_memory given as a share: no container memory limit was found, so the share is of the machine's memory")); len(warned) > 0 {
		t.Errorf("warned of no cgroup limit: %v", warned)
	}
}
