package cgroup

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeSystem lays out files under a temporary root as the kernel shows
// them: keys are paths ("proc/self/cgroup"), values their content.
func fakeSystem(t *testing.T, files map[string]string) Reader {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Reader{Root: root}
}

// Mount tables as the kernel prints them.
const (
	mountsV2 = `24 29 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`
	mountsV1 = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory
`
	// hybrid: v2 mounted beside v1, without controllers (this machine)
	mountsHybrid = mountsV1 + `41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
)

func TestMemoryAndCPU(t *testing.T) {
	tests := []struct {
		name           string
		files          map[string]string
		mem, cpu       float64
		memSrc, cpuSrc string
	}{
		{
			name: "v2 container (cgroup namespace: its cgroup is the root)",
			files: map[string]string{
				"proc/self/cgroup":          "0::/\n",
				"proc/self/mountinfo":       mountsV2,
				"sys/fs/cgroup/memory.max":  "536870912\n",
				"sys/fs/cgroup/cpu.max":     "150000 100000\n",
				"sys/fs/cgroup/cgroup.type": "domain\n",
			},
			mem: 512 << 20, cpu: 1.5,
			memSrc: "cgroup v2 /sys/fs/cgroup/memory.max", cpuSrc: "cgroup v2 /sys/fs/cgroup/cpu.max",
		},
		{
			name: "v2 without limits",
			files: map[string]string{
				"proc/self/cgroup":         "0::/\n",
				"proc/self/mountinfo":      mountsV2,
				"sys/fs/cgroup/memory.max": "max\n",
				"sys/fs/cgroup/cpu.max":    "max 100000\n",
			},
			memSrc: "cgroup v2: no memory limit set", cpuSrc: "cgroup v2: no cpu limit set",
		},
		{
			name: "v2 host: the smallest limit on the path to the root wins",
			files: map[string]string{
				"proc/self/cgroup":                                    "0::/system.slice/app.service\n",
				"proc/self/mountinfo":                                 mountsV2,
				"sys/fs/cgroup/system.slice/memory.max":               "1073741824\n",
				"sys/fs/cgroup/system.slice/cpu.max":                  "max 100000\n",
				"sys/fs/cgroup/system.slice/app.service/memory.max":   "max\n",
				"sys/fs/cgroup/system.slice/app.service/cpu.max":      "200000 100000\n",
				"sys/fs/cgroup/system.slice/app.service/cgroup.procs": "1\n",
			},
			mem: 1 << 30, cpu: 2,
			memSrc: "cgroup v2 /sys/fs/cgroup/system.slice/memory.max",
			cpuSrc: "cgroup v2 /sys/fs/cgroup/system.slice/app.service/cpu.max",
		},
		{
			name: "v1 (cpu and cpuacct mounted together)",
			files: map[string]string{
				"proc/self/cgroup":    "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n",
				"proc/self/mountinfo": mountsV1,
				"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes":  "268435456\n",
				"sys/fs/cgroup/memory/memory.limit_in_bytes":             "9223372036854771712\n",
				"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us":  "50000\n",
				"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":             "-1\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us":            "100000\n",
			},
			mem: 256 << 20, cpu: 0.5,
			memSrc: "cgroup v1 /sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes",
			cpuSrc: "cgroup v1 /sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us",
		},
		{
			name: "v1 without limits",
			files: map[string]string{
				"proc/self/cgroup":                            "4:memory:/\n3:cpu,cpuacct:/\n",
				"proc/self/mountinfo":                         mountsV1,
				"sys/fs/cgroup/memory/memory.limit_in_bytes":  "9223372036854771712\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  "-1\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
			},
			memSrc: "cgroup v1: no memory limit set", cpuSrc: "cgroup v1: no cpu limit set",
		},
		{
			name: "v1 container whose mount shows only its own subtree",
			files: map[string]string{
				"proc/self/cgroup": "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n",
				"proc/self/mountinfo": `35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory
32 31 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct
`,
				"sys/fs/cgroup/memory/memory.limit_in_bytes":  "104857600\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  "300000\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
			},
			mem: 100 << 20, cpu: 3,
			memSrc: "cgroup v1 /sys/fs/cgroup/memory/memory.limit_in_bytes",
			cpuSrc: "cgroup v1 /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us",
		},
		{
			name: "hybrid: the v2 hierarchy has no controllers, v1 has the limits",
			files: map[string]string{
				"proc/self/cgroup":                               "4:memory:/job\n3:cpu,cpuacct:/\n0::/\n",
				"proc/self/mountinfo":                            mountsHybrid,
				"sys/fs/cgroup/unified/cgroup.controllers":       "\n",
				"sys/fs/cgroup/memory/job/memory.limit_in_bytes": "67108864\n",
				"sys/fs/cgroup/memory/memory.limit_in_bytes":     "9223372036854771712\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":     "-1\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us":    "100000\n",
			},
			mem: 64 << 20, memSrc: "cgroup v1 /sys/fs/cgroup/memory/job/memory.limit_in_bytes",
			cpuSrc: "cgroup v1: no cpu limit set",
		},
		{
			name: "v2 host, process in the root cgroup (which has no limit files)",
			files: map[string]string{
				"proc/self/cgroup":                 "0::/\n",
				"proc/self/mountinfo":              mountsV2,
				"sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids\n",
			},
			memSrc: "cgroup v2: no memory limit set", cpuSrc: "cgroup v2: no cpu limit set",
		},
		{
			name:   "no cgroup information (not Linux, or /proc not mounted)",
			files:  map[string]string{},
			memSrc: "no cgroup information", cpuSrc: "no cgroup information",
		},
		{
			name: "no controller mounted",
			files: map[string]string{
				"proc/self/cgroup":    "1:name=systemd:/\n",
				"proc/self/mountinfo": "24 29 0:22 / /sys rw - sysfs sysfs rw\n",
			},
			memSrc: "no cgroup memory controller mounted", cpuSrc: "no cgroup cpu controller mounted",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fakeSystem(t, tt.files)
			mem, err := r.Memory()
			if err != nil {
				t.Fatalf("Memory: %v", err)
			}
			if mem.Value != tt.mem || !strings.HasPrefix(mem.Source, tt.memSrc) {
				t.Errorf("Memory = %v (%q), want %v (%q)", mem.Value, mem.Source, tt.mem, tt.memSrc)
			}
			if mem.Set() != (tt.mem > 0) {
				t.Errorf("Memory.Set() = %v", mem.Set())
			}
			cpu, err := r.CPU()
			if err != nil {
				t.Fatalf("CPU: %v", err)
			}
			if cpu.Value != tt.cpu || !strings.HasPrefix(cpu.Source, tt.cpuSrc) {
				t.Errorf("CPU = %v (%q), want %v (%q)", cpu.Value, cpu.Source, tt.cpu, tt.cpuSrc)
			}
		})
	}
}

func TestMalformedFilesAreErrors(t *testing.T) {
	tests := []struct {
		name, file, content, want string
		cpu                       bool
	}{
		{"memory.max", "sys/fs/cgroup/memory.max", "lots\n", `"lots" is not a byte count`, false},
		{"cpu.max quota", "sys/fs/cgroup/cpu.max", "x 100000\n", `quota "x" is not a number`, true},
		{"cpu.max period", "sys/fs/cgroup/cpu.max", "1000 0\n", `period "0" is not a positive number`, true},
		{"cpu.max fields", "sys/fs/cgroup/cpu.max", "1 2 3\n", `is not "<quota> <period>"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fakeSystem(t, map[string]string{
				"proc/self/cgroup":    "0::/\n",
				"proc/self/mountinfo": mountsV2,
				tt.file:               tt.content,
			})
			var err error
			if tt.cpu {
				_, err = r.CPU()
			} else {
				_, err = r.Memory()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.name[:strings.IndexByte(tt.name+" ", ' ')]) {
				t.Errorf("err = %v, want one naming the file and saying %q", err, tt.want)
			}
		})
	}
}

func TestCPUMaxQuotaOnly(t *testing.T) {
	r := fakeSystem(t, map[string]string{
		"proc/self/cgroup":      "0::/\n",
		"proc/self/mountinfo":   mountsV2,
		"sys/fs/cgroup/cpu.max": "250000\n",
	})
	cpu, err := r.CPU()
	if err != nil || cpu.Value != 2.5 {
		t.Fatalf("CPU = %v, %v; want 2.5 (default period 100000)", cpu.Value, err)
	}
}

func TestMountinfoEscapes(t *testing.T) {
	ms := parseMountinfo([]byte(`40 31 0:37 / /mnt/my\040cgroups rw,relatime - cgroup2 cgroup2 rw` + "\n" + "garbage\n"))
	if len(ms) != 1 || ms[0].point != "/mnt/my cgroups" || ms[0].fstype != "cgroup2" {
		t.Fatalf("parseMountinfo = %+v", ms)
	}
}

// TestRealCgroup reads the limits of a child cgroup made on this machine:
// a process moved into it gets the limits written there, read back through
// the real /proc and /sys.
func TestRealCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a cgroup needs root")
	}
	dir, memFile, err := Reader{}.MemoryDir()
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("no cgroup to make a child in: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	child, err := os.MkdirTemp(dir, "cgroup-test-")
	if err != nil {
		t.Skipf("cannot make a child cgroup in %s (read-only cgroup mount?): %v", dir, err)
	}
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sleep.Process.Kill()
		sleep.Wait()
		os.Remove(child)
	})
	limit := "41943040"
	if err := os.WriteFile(filepath.Join(child, memFile), []byte(limit), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(child, "cgroup.procs"), []byte(strconv.Itoa(sleep.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	mem, err := Reader{PID: sleep.Process.Pid}.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if mem.Value != 40<<20 || !strings.Contains(mem.Source, filepath.Base(child)) {
		t.Errorf("Memory of a process in %s = %v (%s), want 40 MiB read from that cgroup", child, mem.Value, mem.Source)
	}
}
