package caddydjango

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/cgroup"
)

// TestCPUsFrom: the CPU count for `auto` is the quota rounded up, at most
// the online CPUs; without a quota (or an unreadable one), the online CPUs.
func TestCPUsFrom(t *testing.T) {
	src := "cgroup v2 /sys/fs/cgroup/cpu.max"
	for _, tc := range []struct {
		online int
		quota  float64
		err    error
		want   int
		says   string
	}{
		{8, 0, nil, 8, "8 online CPUs, no CPU quota"},
		{8, 1.5, nil, 2, "CPU quota of 1.5 rounded up, from " + src},
		{8, 0.5, nil, 1, "CPU quota of 0.5 rounded up"},
		{8, 0.01, nil, 1, "CPU quota of 0.01 rounded up"},
		{8, 2, nil, 2, "CPU quota of 2 rounded up"},
		{8, 2.0000000000001, nil, 2, "CPU quota of 2 rounded up"}, // float noise from quota/period
		{4, 6, nil, 4, "4 online CPUs (below the CPU quota of 6 from " + src + ")"},
		{2, 1.25, nil, 2, "2 online CPUs (below the CPU quota of 1.25"},
		{0, 0, nil, 1, "1 online CPUs, no CPU quota"},
		{4, 0, errors.New("cpu.max: bad format"), 4, "4 online CPUs (the cgroup's CPU quota could not be read: cpu.max: bad format)"},
	} {
		got := cpusFrom(tc.online, cgroup.Limit{Value: tc.quota, Source: src}, tc.err)
		if got.n != tc.want || !strings.HasPrefix(got.source, tc.says) {
			t.Errorf("cpusFrom(%d, %v, %v) = %d %q, want %d %q", tc.online, tc.quota, tc.err, got.n, got.source, tc.want, tc.says)
		}
	}
}

func TestCountJSON(t *testing.T) {
	for in, want := range map[string]Count{`3`: countOf(3), `0`: countOf(0), `"auto"`: countAuto} {
		var c Count
		if err := json.Unmarshal([]byte(in), &c); err != nil || c != want {
			t.Errorf("%s: %+v %v, want %+v", in, c, err, want)
		}
		if b, _ := json.Marshal(c); string(b) != in {
			t.Errorf("%s marshals as %s", in, b)
		}
	}
	for _, in := range []string{`-1`, `"many"`, `1.5`, `"3"`, `true`} {
		var c Count
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("%s: accepted as %+v", in, c)
		}
	}
	b, _ := json.Marshal(struct {
		W Count `json:"w,omitzero"`
	}{})
	if string(b) != `{}` {
		t.Errorf("unset count marshals as %s", b)
	}
}

// TestWorkersAutoAdaptsAsAuto: `caddy adapt` prints "auto" (the count is
// the machine's, resolved when the config is provisioned); `replicas 0`
// adapts as 0, not as the default.
func TestWorkersAutoAdaptsAsAuto(t *testing.T) {
	cfg, err := adaptDjango(t, "{\n\tdjango {\n\t\tgunicorn a.wsgi {\n\t\t\tworkers auto\n\t\t}\n\t\tprocess w ./w {\n\t\t\treplicas auto\n\t\t}\n\t\tprocess off ./w {\n\t\t\treplicas 0\n\t\t}\n\t}\n}")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cfg)
	for _, want := range []string{`"gunicorn":{"app":"a.wsgi","workers":"auto"}`, `{"command":["./w"],"name":"w","replicas":"auto"}`, `{"command":["./w"],"name":"off","replicas":0}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("adapted %s\nlacks %s", b, want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"gunicorn a.wsgi {\n\t\t\tworkers 0\n\t\t}", `Caddyfile:4 - Error during parsing: workers must be at least 1, got 0`},
		{"gunicorn a.wsgi {\n\t\t\tworkers lots\n\t\t}", `Caddyfile:4 - Error during parsing: workers: "lots" is not a whole number or auto`},
		{"process w ./w {\n\t\t\treplicas -1\n\t\t}", `Caddyfile:4 - Error during parsing: replicas must be at least 0, got -1`},
		{"gunicorn a.wsgi {\n\t\t\treplicas auto\n\t\t}", `Caddyfile:4 - Error during parsing: replicas is not supported for gunicorn; use workers`},
	} {
		_, err := adaptDjango(t, "{\n\tdjango {\n\t\t"+tc.in+"\n\t}\n}")
		wantAdaptError(t, err, tc.want)
	}
}

// TestWorkersAutoResolves: auto is 2 × CPUs + 1 Gunicorn workers, one per
// CPU for the other servers and replicas; replicas 0 is one DISABLED
// entry; daphne has no workers to set.
func TestWorkersAutoResolves(t *testing.T) {
	cpus := availableCPUs().n
	if cpus < 1 || cpus > runtime.NumCPU() {
		t.Fatalf("availableCPUs = %d with %d online", cpus, runtime.NumCPU())
	}
	a := &App{Root: "/srv"}
	for server, want := range map[string]int{"gunicorn": 2*cpus + 1, "uvicorn": cpus, "hypercorn": cpus, "uwsgi": cpus} {
		s, err := (&AppServerConfig{Server: server, App: "a:b", Workers: countAuto}).spec(a)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.Index(s.Argv, "--workers"); i < 0 || s.Argv[i+1] != strconv.Itoa(want) {
			t.Errorf("%s workers auto: argv %q, want --workers %d", server, s.Argv, want)
		}
	}
	if _, err := (&AppServerConfig{Server: "daphne", App: "a:b", Workers: countAuto}).spec(a); err == nil || !strings.Contains(err.Error(), "workers is not supported for daphne") {
		t.Errorf("daphne workers auto: %v", err)
	}
	specs, err := (&ProcessConfig{Name: "w", Command: []string{"./w"}, ProcessOptions: ProcessOptions{Replicas: countAuto}}).specs(a)
	if err != nil || len(specs) != cpus {
		t.Fatalf("replicas auto: %d specs, %v; want %d", len(specs), err, cpus)
	}
	specs, err = (&ProcessConfig{Name: "w", Command: []string{"./w"}, ProcessOptions: ProcessOptions{Replicas: countOf(0)}}).specs(a)
	if err != nil || len(specs) != 1 || specs[0].Name != "w" || !specs[0].Disabled {
		t.Fatalf("replicas 0: %+v, %v; want one disabled entry named w", specs, err)
	}
	specs, err = (&ProcessConfig{Name: "w", Command: []string{"./w"}}).specs(a)
	if err != nil || len(specs) != 1 || specs[0].Disabled {
		t.Fatalf("replicas unset: %+v, %v; want one enabled entry", specs, err)
	}
}

// TestWorkersAutoFromTheCPUs: with a real Caddy and Gunicorn, `workers
// auto` starts 2 × CPUs + 1 Gunicorn workers and `replicas auto` one
// replica per CPU: on this machine as it is (no CPU quota: the online
// CPUs), and inside a child cgroup with a quota of 0.9 CPU (counted as 1),
// the way a container with `--cpus 0.9` runs it.
func TestWorkersAutoFromTheCPUs(t *testing.T) {
	requireDjango(t)
	t.Run("no quota", func(t *testing.T) {
		cpus := availableCPUs()
		if !strings.Contains(cpus.source, "no CPU quota") {
			t.Logf("this machine's CPUs: %d (%s)", cpus.n, cpus.source)
		}
		checkWorkersAuto(t, nil, cpus.n)
	})
	t.Run("cgroup quota", func(t *testing.T) {
		dir := cpuQuotaCgroup(t, "90000")
		checkWorkersAuto(t, []string{"/bin/sh", "-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, dir}, 1)
	})
}

// checkWorkersAuto runs Caddy (through prefix, when set) with `workers
// auto` and `replicas auto`, and checks they resolved for cpus CPUs.
func checkWorkersAuto(t *testing.T, prefix []string, cpus int) {
	d := newDjangoProject(t)
	s := &djangoSite{project: d, gport: freePort(t), hport: freePort(t)}
	s.caddyProc = startCaddyVia(t, prefix, t.TempDir(), func(admin string) string {
		s.admin = admin
		return globalBlock(admin, fmt.Sprintf(`
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
		gunicorn demo.wsgi:application {
			command %s
			bind 127.0.0.1:%d
			workers auto
		}
		process w /bin/sh -c "exec sleep 600" {
			replicas auto
			startsecs 0
		}`, d.Root, systemGunicorn, s.gport)) + fmt.Sprintf("\n:%d {\n\tdjango_files\n}\n", s.hport)
	}, d.Env...)
	st := s.waitState(gunicornName, StateRunning, 120*time.Second)
	workers := 2*cpus + 1
	if !strings.Contains(strings.Join(st.Command, " "), "--workers "+strconv.Itoa(workers)) {
		t.Errorf("gunicorn runs %q, want --workers %d", st.Command, workers)
	}
	waitFor(t, 60*time.Second, func() bool { return len(groupMembers(st.PID)) == workers+1 }, fmt.Sprintf("a Gunicorn master and %d workers", workers))
	names := []string{"w"}
	if cpus > 1 {
		names = names[:0]
		for i := 1; i <= cpus; i++ {
			names = append(names, "w-"+strconv.Itoa(i))
		}
	}
	sts := s.statuses()
	for _, n := range names {
		if sts[n].State == "" {
			t.Errorf("no replica %s in %v", n, sts)
		}
	}
	if len(sts) != len(names)+1 {
		t.Errorf("%d entries, want gunicorn and %v", len(sts), names)
	}
	e := s.waitLog(10*time.Second, "the workers auto log entry", msgIs("workers auto"))
	if e.num("workers") != workers || e.num("cpus") != cpus {
		t.Errorf("log entry %v, want %d workers for %d CPUs", e, workers, cpus)
	}
	if code, _ := httpGet(s.url("/hello/")); code != 200 {
		t.Errorf("GET /hello/: %d", code)
	}
	t.Logf("CPUs from: %s", e.str("cpus_from"))
}

// cpuQuotaCgroup makes a child of this process's cgroup in the hierarchy
// with the cpu controller, with a CPU quota of quota µs per 100 ms, and
// removes it when the test ends (after Caddy, registered later, stopped).
// It needs root, and skips when the machine has no writable cpu
// hierarchy.
func cpuQuotaCgroup(t *testing.T, quota string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making a cgroup needs root")
	}
	parent, v2 := cpuHierarchy(t)
	if parent == "" {
		t.Skip("no cgroup hierarchy with the cpu controller is mounted for this process")
	}
	dir, err := os.MkdirTemp(parent, "caddy-django-test-")
	if err != nil {
		t.Skipf("cannot make a child cgroup in %s: %v", parent, err)
	}
	t.Cleanup(func() {
		// its processes are gone once Caddy stopped; the kernel may take
		// a moment to let the directory go
		deadline := time.Now().Add(30 * time.Second)
		for os.Remove(dir) != nil && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
	})
	files := map[string]string{"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": quota}
	if v2 {
		files = map[string]string{"cpu.max": quota + " 100000"}
	}
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0); err != nil {
			t.Skipf("cannot set a CPU quota in %s (%s): %v", dir, name, err)
		}
	}
	return dir
}

// cpuHierarchy returns the directory of this process's cgroup in the
// hierarchy that has the cpu controller (v1 `cpu`, else v2 with `cpu` in
// cgroup.controllers), and whether it is v2.
func cpuHierarchy(t *testing.T) (string, bool) {
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	pathOf := func(match func(controllers string) bool) string {
		for _, l := range strings.Split(string(groups), "\n") {
			if parts := strings.SplitN(l, ":", 3); len(parts) == 3 && match(parts[1]) {
				return parts[2]
			}
		}
		return ""
	}
	var v2mount string
	for _, l := range strings.Split(string(mounts), "\n") {
		pre, post, ok := strings.Cut(l, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 || f[3] != "/" {
			continue
		}
		switch {
		case g[0] == "cgroup" && slices.Contains(strings.Split(g[2], ","), "cpu"):
			p := pathOf(func(c string) bool { return slices.Contains(strings.Split(c, ","), "cpu") })
			return filepath.Join(f[4], p), false
		case g[0] == "cgroup2":
			v2mount = f[4]
		}
	}
	if v2mount != "" {
		dir := filepath.Join(v2mount, pathOf(func(c string) bool { return c == "" }))
		if b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers")); err == nil && slices.Contains(strings.Fields(string(b)), "cpu") {
			return dir, true
		}
	}
	return "", false
}
