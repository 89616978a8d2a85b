//go:build linux

package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddy-django/caddy-django/internal/bucket"
	"github.com/caddy-django/caddy-django/internal/testkit"
)

// --- § 10 media from an S3 bucket ---------------------------------------------

// bucketMediaSizes are the objects § 10 serves.
var bucketMediaSizes = []struct {
	name  string
	size  int64
	conns int
}{{"4KB", 4 << 10, 32}, {"5MB", 5 << 20, 8}}

// sectionBucketMedia: media from a bucket on a real S3 server (versitygw,
// the tests' server, keep-alive on, no access log) through django_files,
// against a presigned GET straight to the same server and django_files
// from a local directory; the bucket requests each client request costs;
// Caddy's memory while 50 clients download 5 MB objects.
func (b *bench) sectionBucketMedia() {
	m := b.sectionHeader("10. Media from an S3 bucket (4 KB and 5 MB objects)")
	defer b.sectionFooter(m)
	fail := func(err error) {
		b.printf("Not measured: %v\n", err)
		b.verdict("10", "media from a bucket", "failed: "+err.Error(), "", "n/a")
	}
	bin, err := testkit.S3ServerBinary()
	if err != nil {
		fail(err)
		return
	}
	dir := filepath.Join(b.work, "bucketmedia")
	local := filepath.Join(dir, "local")
	if err := os.MkdirAll(filepath.Join(dir, "s3"), 0o755); err != nil {
		fail(err)
		return
	}
	s3port, admin, viaBucket, viaLocal, viaCache := freePort(), freePort(), freePort(), freePort(), freePort()
	s3url := fmt.Sprintf("http://127.0.0.1:%d", s3port)
	const ak, sk = "AKBENCHMEDIA", "bench-media-secret"
	s3p, err := b.ps.spawn("versitygw", dir, os.Environ(), bin, "--access", ak, "--secret", sk, "--port",
		fmt.Sprintf("127.0.0.1:%d", s3port), "--keep-alive", "--quiet", "posix", filepath.Join(dir, "s3"))
	if err != nil {
		fail(err)
		return
	}
	defer b.ps.stop(s3p, 10*time.Second)
	client, err := waitBucket(s3url, ak, sk)
	if err != nil {
		fail(err)
		return
	}
	urls := map[string]string{}
	for _, o := range bucketMediaSizes {
		data := make([]byte, o.size)
		_, _ = rand.Read(data)
		name := "obj-" + o.name + ".bin"
		if err := client.Put(context.Background(), "media/"+name, data, nil); err == nil {
			err = os.MkdirAll(local, 0o755)
			if err == nil {
				err = os.WriteFile(filepath.Join(local, name), data, 0o644)
			}
		}
		if err != nil {
			fail(err)
			return
		}
		if urls[o.name], err = client.Presign(http.MethodGet, "media/"+name, 2*time.Hour); err != nil {
			fail(err)
			return
		}
	}
	cf := filepath.Join(dir, "Caddyfile")
	conf := globalOptions(admin, "") + bucketSite(viaBucket, s3url, ak, "") +
		fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tmedia /media/ %s\n\t}\n}\n", viaLocal, local) +
		bucketSite(viaCache, s3url, ak, fmt.Sprintf("\t\t\tcache_dir %s\n\t\t\tcache_ttl 10m\n", filepath.Join(dir, "cache")))
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		fail(err)
		return
	}
	cp, err := b.ps.spawn("caddy-bucketmedia", dir, append(os.Environ(), "BENCH_S3_SECRET="+sk), b.caddyBin, "run", "--config", cf, "--adapter", "caddyfile")
	if err == nil {
		err = waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/config/", admin), 30*time.Second)
	}
	if err != nil {
		fail(err)
		return
	}
	defer b.ps.stop(cp, 10*time.Second)

	var rows []bucketRow
	dur := min(b.dur, 3*time.Second)
	for _, o := range bucketMediaSizes {
		path := "/media/obj-" + o.name + ".bin"
		want := wantFile(200, o.size, "")
		r := bucketRow{name: o.name, size: o.size,
			viaBucket: &target{name: "bucket " + o.name + " django_files", url: b.url(viaBucket, path), want: want, cpuPID: cp.pid()},
			direct:    &target{name: "bucket " + o.name + " presigned", url: urls[o.name], want: want, cpuPID: s3p.pid()},
			fs:        &target{name: "local " + o.name + " django_files", url: b.url(viaLocal, path), want: want, cpuPID: cp.pid()},
		}
		b.measure([]*target{r.viaBucket, r.direct, r.fs}, b.rounds, o.conns, dur, "")
		if b.pprof {
			b.profileBucket("", fmt.Sprintf("http://127.0.0.1:%d", admin), "same box", r.viaBucket, o.conns)
		}
		rows = append(rows, r)
	}
	link, remote, remoteErr := b.bucketMediaRemote(dir, bin, ak, sk, dur)
	// the cache: a hot 4 KB object against the same from a directory
	hotPath := "/media/obj-4KB.bin"
	cached := &target{name: "cached 4KB django_files", url: b.url(viaCache, hotPath), want: wantFile(200, 4<<10, ""), cpuPID: cp.pid()}
	localHot := &target{name: "local 4KB django_files ", url: b.url(viaLocal, hotPath), want: wantFile(200, 4<<10, ""), cpuPID: cp.pid()}
	b.measure([]*target{cached, localHot}, b.rounds, 32, dur, "")
	hitsPerReq, hitsNote := bucketRequestsPerClientRequest(fmt.Sprintf("http://127.0.0.1:%d", admin), b.url(viaCache, hotPath))
	perReq, perReqNote := bucketRequestsPerClientRequest(fmt.Sprintf("http://127.0.0.1:%d", admin), b.url(viaBucket, "/media/obj-4KB.bin"))
	rssBefore, rssPeak, memNote := rssDuring(b, cp.pid(), b.url(viaBucket, "/media/obj-5MB.bin"), 50, dur)

	b.printf("versitygw %s (an S3 gateway over a directory, the tests' server; keep-alive on, no access log) on loopback; `django_files` serves `media /media/ s3://bench-media/media` (one signed GET per client request) and, for reference, the same files from a local directory; \"presigned\" is wrk straight to a presigned URL of the same object on the same server. wrk -t1 -d%s, %d rounds, 32 connections for 4 KB, 8 for 5 MB. Latency: the median over rounds of wrk's p50 / p99.\n\n", testkit.VersitygwVersion, dur, b.rounds)
	b.printf("**Same box** (the worst case: wrk, Caddy and versitygw share every core, so the bucket row pays Caddy's CPU out of the cores that serve the direct row too):\n\n")
	b.printf("| object | django_files from the bucket | presigned GET direct | django_files from a directory | bucket / presigned | bucket / directory |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		bd, _, _ := ratio(r.viaBucket, r.direct)
		bl, _, _ := ratio(r.viaBucket, r.fs)
		b.printf("| %s req/s | %s | %s | %s | %s | %s |\n", r.name, r.viaBucket.cell(reqs), r.direct.cell(reqs), r.fs.cell(reqs), bd, bl)
		b.printf("| %s p50 / p99 | %s | %s | %s | | |\n", r.name, r.viaBucket.latCell(), r.direct.latCell(), r.fs.latCell())
		b.printf("| %s CPU per request (Caddy; versitygw for direct) | %s | %s | %s | | |\n", r.name, r.viaBucket.cpuCell(), r.direct.cpuCell(), r.fs.cpuCell())
		b.verdict("10", r.name+" object, same box: django_files from the bucket / presigned GET direct", bd, "report (target applies to the remote bucket)", "—")
		b.verdict("10", r.name+" object: django_files from the bucket / from a directory", bl, "report", "—")
	}
	b.printRemoteBucket(link, remote, remoteErr)
	b.printf("\nBucket requests per client request (GET, HEAD, `Range`, `If-None-Match` in turns, counted with `caddy_django_bucket_requests_total`): **%s** %s.\n", perReq, perReqNote)
	v := "MISS"
	if perReq == "1.00" {
		v = "OK"
	}
	b.verdict("10", "bucket requests per client request", perReq, "1", v)
	growth := float64(rssPeak-rssBefore) / 1024
	b.printf("\nCaddy's memory while 50 clients download the 5 MB object from the bucket for %s: RSS %.0f MiB before, %.0f MiB at the most (%+.0f MiB; buffering whole objects would take 250 MiB) %s.\n",
		dur, float64(rssBefore)/1024, float64(rssPeak)/1024, growth, memNote)
	v = "MISS"
	if rssBefore > 0 && growth < 64 {
		v = "OK"
	}
	b.verdict("10", "Caddy RSS growth, 50 clients × 5 MB from the bucket", fmt.Sprintf("%+.0f MiB", growth), "flat (< 64 MiB)", v)
	cr, _, _ := ratio(cached, localHot)
	b.printf("\nWith `cache_dir` (`cache_ttl 10m`), the hot 4 KB object: %s req/s, p50 / p99 %s, against %s and %s from a directory: **%s**. Bucket requests per client request for cache hits: **%s** %s.\n",
		cached.cell(reqs), cached.latCell(), localHot.cell(reqs), localHot.latCell(), cr, hitsPerReq, hitsNote)
	b.wantRatio("10", "hot 4 KB object with the cache / from a directory", cached, localHot, 0.80, "≥ 0.80×")
	v = "MISS"
	if hitsPerReq == "0.00" {
		v = "OK"
	}
	b.verdict("10", "bucket requests per cache hit", hitsPerReq, "0", v)
}

// bucketRow is one object size of §10: django_files from the bucket, a
// presigned GET straight to the bucket, django_files from a directory
// (nil in the remote topology).
type bucketRow struct {
	name                  string
	size                  int64
	viaBucket, direct, fs *target
	base                  *target // django_files of BENCH_CADDY_BASE's build (remote topology)
}

// bucketMediaRemote measures the production topology: the bucket on its
// own machine. versitygw runs in a network namespace on a CPU of its own,
// behind a veth pair limited to the link rate (netLink); Caddy and wrk run
// on the other CPUs. Both rows, django_files from the bucket and the
// presigned GET straight to it, cross the same link, in alternating
// rounds. It returns why it could not measure (no root, no ip, 1 CPU).
func (b *bench) bucketMediaRemote(dir, bin, ak, sk string, dur time.Duration) (*netLink, []bucketRow, error) {
	if b.linkRate == "off" {
		return nil, nil, errors.New("BENCH_LINK_RATE=off")
	}
	link, err := newNetLink(b.work, b.linkRate)
	if err != nil {
		return nil, nil, err
	}
	b.ps.onExit(link.close) // also when the driver is stopped by a signal
	defer link.close()      // after the processes below stopped (defers run last first)
	logf("bucket on its own machine: namespace %s, %s (host) ↔ %s (bucket), tbf %s burst %d B, bucket on CPU %s, Caddy and wrk on CPUs %s",
		link.ns, link.hostIP, link.nsIP, link.rate, link.burst, link.cpu, link.others)
	s3port, admin, viaBucket := freePort(), freePort(), freePort()
	s3url := fmt.Sprintf("http://%s:%d", link.nsIP, s3port)
	s3p, err := b.ps.spawn("versitygw-remote", dir, os.Environ(), link.wrap(bin, "--access", ak, "--secret", sk, "--port",
		fmt.Sprintf("%s:%d", link.nsIP, s3port), "--keep-alive", "--quiet", "posix", filepath.Join(dir, "s3"))...)
	if err != nil {
		return link, nil, err
	}
	defer b.ps.stop(s3p, 10*time.Second)
	client, err := waitBucket(s3url, ak, sk) // the same directory as the same-box server's: the objects are there
	if err != nil {
		return link, nil, err
	}
	cf := filepath.Join(dir, "Caddyfile-remote")
	if err := os.WriteFile(cf, []byte(globalOptions(admin, "")+bucketSite(viaBucket, s3url, ak, "")), 0o644); err != nil {
		return link, nil, err
	}
	cp, err := b.ps.spawn("caddy-bucketmedia-remote", dir, append(os.Environ(), "BENCH_S3_SECRET="+sk), link.pin(b.caddyBin, "run", "--config", cf, "--adapter", "caddyfile")...)
	if err == nil {
		defer b.ps.stop(cp, 10*time.Second)
		err = waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/config/", admin), 30*time.Second)
	}
	if err != nil {
		return link, nil, err
	}
	// another build of Caddy (BENCH_CADDY_BASE, e.g. main's), for a before
	// and after in the same run
	var base *proc
	viaBase := freePort()
	if b.caddyBase != "" {
		cfb := filepath.Join(dir, "Caddyfile-remote-base")
		adminBase := freePort()
		err := os.WriteFile(cfb, []byte(globalOptions(adminBase, "")+bucketSite(viaBase, s3url, ak, "")), 0o644)
		if err == nil {
			base, err = b.ps.spawn("caddy-bucketmedia-remote-base", dir, append(os.Environ(), "BENCH_S3_SECRET="+sk), link.pin(b.caddyBase, "run", "--config", cfb, "--adapter", "caddyfile")...)
		}
		if err == nil {
			defer b.ps.stop(base, 10*time.Second)
			err = waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/config/", adminBase), 30*time.Second)
		}
		if err != nil {
			return link, nil, fmt.Errorf("the base build (BENCH_CADDY_BASE): %v", err)
		}
	}
	var rows []bucketRow
	for _, o := range bucketMediaSizes {
		name := "obj-" + o.name + ".bin"
		u, err := client.Presign(http.MethodGet, "media/"+name, 2*time.Hour)
		if err != nil {
			return link, nil, err
		}
		want := wantFile(200, o.size, "")
		r := bucketRow{name: o.name, size: o.size,
			viaBucket: &target{name: "remote " + o.name + " django_files", url: b.url(viaBucket, "/media/"+name), want: want, cpuPID: cp.pid(), cpus: link.others},
			direct:    &target{name: "remote " + o.name + " presigned", url: u, want: want, cpuPID: s3p.pid(), cpus: link.others},
		}
		ts := []*target{r.viaBucket, r.direct}
		if base != nil {
			r.base = &target{name: "remote " + o.name + " django_files (base)", url: b.url(viaBase, "/media/"+name), want: want, cpuPID: base.pid(), cpus: link.others}
			ts = append(ts, r.base)
		}
		b.measure(ts, b.rounds, o.conns, dur, "")
		if b.pprof {
			b.profileBucket(link.others, fmt.Sprintf("http://127.0.0.1:%d", admin), "remote bucket", r.viaBucket, o.conns)
		}
		rows = append(rows, r)
	}
	return link, rows, nil
}

// printRemoteBucket prints the remote topology's table and its verdicts
// (the ≥ 0.90× target), or why it was not measured.
func (b *bench) printRemoteBucket(link *netLink, rows []bucketRow, err error) {
	if err != nil {
		b.printf("\n**Bucket on its own machine: not measured: %v.** Only the same-box rows above were measured; they are the worst case, not the production one.\n", err)
		b.notes = append(b.notes, fmt.Sprintf("§10 the bucket on its own machine (where the ≥ 0.90× target applies) was not measured: %v", err))
		for _, o := range bucketMediaSizes {
			b.verdict("10", o.name+" object, bucket on its own machine: django_files from the bucket / presigned GET direct", "not measured: "+err.Error(), "≥ 0.90×", "n/a")
		}
		return
	}
	mb := link.bytesPerSec() / 1e6
	b.printf("\n**Bucket on its own machine** (the production case): versitygw in a network namespace on CPU %s alone, reached over a veth pair limited to %s each way (tbf, burst %s KB, as much as the rate brings in 4 ms), wrk and Caddy on CPU %s; both rows cross the same link, in alternating rounds. The link carries at most %.0f MB/s: %.0f objects/s of 5 MiB.\n\n",
		link.cpu, link.rate, commas(int64(link.burst/1000)), link.others, mb, link.bytesPerSec()/(5<<20))
	b.printf("| object | django_files from the bucket | presigned GET direct | bucket / presigned |\n|---|---|---|---|\n")
	for _, r := range rows {
		bd, _, _ := ratio(r.viaBucket, r.direct)
		b.printf("| %s req/s | %s | %s | **%s** |\n", r.name, r.viaBucket.cell(reqs), r.direct.cell(reqs), bd)
		b.printf("| %s MB/s on the link | %.0f | %.0f | |\n", r.name, r.viaBucket.median()*float64(r.size)/1e6, r.direct.median()*float64(r.size)/1e6)
		b.printf("| %s p50 / p99 | %s | %s | |\n", r.name, r.viaBucket.latCell(), r.direct.latCell())
		b.printf("| %s CPU per request (Caddy; versitygw for direct) | %s | %s | |\n", r.name, r.viaBucket.cpuCell(), r.direct.cpuCell())
		b.wantRatio("10", r.name+" object, bucket on its own machine ("+link.rate+"): django_files from the bucket / presigned GET direct", r.viaBucket, r.direct, 0.90, "≥ 0.90×")
	}
	for _, r := range rows {
		if r.base == nil {
			continue
		}
		if r == rows[0] {
			b.printf("\nThe same rows through Caddy built from `BENCH_CADDY_BASE` (%s), same link, same rounds:\n\n| object | base build req/s | this build / base (req/s) | CPU per request: base | this build | this / base |\n|---|---|---|---|---|---|\n", b.caddyBase)
		}
		rb, _, _ := ratio(r.viaBucket, r.base)
		b.printf("| %s | %s | %s | %s | %s | %s |\n", r.name, r.base.cell(reqs), rb, r.base.cpuCell(), r.viaBucket.cpuCell(), cpuRatio(r.viaBucket, r.base))
		b.verdict("10", r.name+" object, bucket on its own machine: this build / BENCH_CADDY_BASE", rb+", CPU per request "+cpuRatio(r.viaBucket, r.base), "report", "—")
	}
}

// profileBucket takes a CPU profile of the Caddy at admin while wrk (on
// cpus) loads t.
func (b *bench) profileBucket(cpus, admin, topology string, t *target, conns int) {
	if t.na != "" {
		return
	}
	name := strings.ReplaceAll(topology+"-"+t.name, " ", "-")
	path := filepath.Join(b.work, "pprof-"+name+".pb.gz")
	secs := max(2, int(b.dur.Seconds())-1)
	if err := b.loadProfileOn(cpus, admin, path, secs, t.url, conns, nil, ""); err != nil {
		b.profiles = append(b.profiles, fmt.Sprintf("Profile %s failed: %v", name, err))
		return
	}
	top := cmdOut("go", "tool", "pprof", "-top", "-nodecount=30", b.caddyBin, path)
	b.profiles = append(b.profiles, fmt.Sprintf("#### CPU profile of Caddy+plugin during %s, %s (%s; kept with BENCH_KEEP=1)\n\n```text\n%s\n```", t.name, topology, path, top))
}

// waitBucket waits (30 s at most) for the S3 server at endpoint to answer
// and returns a client of the bench's bucket, which it creates.
func waitBucket(endpoint, ak, sk string) (*bucket.Client, error) {
	client, err := bucket.New(bucket.Config{Endpoint: endpoint, Bucket: "bench-media", PathStyle: true, AccessKey: ak, SecretKey: sk})
	if err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err = client.CreateBucket(context.Background())
		var e *bucket.Error
		if err == nil || errors.As(err, &e) || time.Now().After(deadline) {
			break // created, or the server answered why not
		}
	}
	if err != nil {
		return nil, fmt.Errorf("creating the bucket at %s: %v", endpoint, err)
	}
	return client, nil
}

// bucketSite is a Caddyfile site on port serving `media /media/` from the
// bench's bucket at endpoint, with extra lines in its media block.
func bucketSite(port int, endpoint, ak, extra string) string {
	return fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tmedia /media/ s3://bench-media/media {\n\t\t\tendpoint %s\n\t\t\taccess_key %s\n\t\t\tsecret_key {env.BENCH_S3_SECRET}\n%s\t\t}\n\t}\n}\n", port, endpoint, ak, extra)
}

// bucketRequestsPerClientRequest sends 200 requests (GET, HEAD, a range,
// a conditional GET in turns) to url and returns the bucket requests they
// cost per request, read from the admin endpoint's metrics.
func bucketRequestsPerClientRequest(admin, url string) (string, string) {
	const n = 200
	before, err := bucketRequestsMetric(admin)
	if err != nil {
		return "n/a", "(" + err.Error() + ")"
	}
	etag := ""
	for i := range n {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		switch i % 4 {
		case 1:
			req.Method = http.MethodHead
		case 2:
			req.Header.Set("Range", "bytes=100-199")
		case 3:
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "n/a", "(" + err.Error() + ")"
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if i == 0 {
			etag = resp.Header.Get("ETag")
		}
	}
	after, err := bucketRequestsMetric(admin)
	if err != nil {
		return "n/a", "(" + err.Error() + ")"
	}
	return fmt.Sprintf("%.2f", (after-before)/n), fmt.Sprintf("(%.0f bucket requests for %d client requests)", after-before, n)
}

// bucketRequestsMetric sums caddy_django_bucket_requests_total.
func bucketRequestsMetric(admin string) (float64, error) {
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	total, found := 0.0, false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "caddy_django_bucket_requests_total{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			total, found = total+v, true
		}
	}
	if !found {
		return 0, nil // none sent yet
	}
	return total, sc.Err()
}

// rssDuring samples pid's RSS (KiB) before and, every 100 ms, while wrk
// loads url with conns connections for dur.
func rssDuring(b *bench, pid int, url string, conns int, dur time.Duration) (before, peak int, note string) {
	runtimeSettle := func() { time.Sleep(time.Second) }
	runtimeSettle()
	before, _ = memKB(pid)
	peak = before
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				rss, _ := memKB(pid)
				mu.Lock()
				peak = max(peak, rss)
				mu.Unlock()
			}
		}
	}()
	res, err := b.wrk(url, conns, dur, nil, "")
	close(done)
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		return before, peak, "(wrk: " + err.Error() + ")"
	}
	return before, peak, fmt.Sprintf("(%s downloads, %s)", commas(res.requests), strings.TrimSpace("errors: "+orNone(res.errs)))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
