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
	client, err := bucket.New(bucket.Config{Endpoint: s3url, Bucket: "bench-media", PathStyle: true, AccessKey: ak, SecretKey: sk})
	if err != nil {
		fail(err)
		return
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err = client.CreateBucket(context.Background())
		var e *bucket.Error
		if err == nil || errors.As(err, &e) || time.Now().After(deadline) {
			break // created, or the server answered why not
		}
	}
	if err != nil {
		fail(fmt.Errorf("creating the bucket: %v", err))
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
	conf := globalOptions(admin, "") +
		fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tmedia /media/ s3://bench-media/media {\n\t\t\tendpoint %s\n\t\t\taccess_key %s\n\t\t\tsecret_key {env.BENCH_S3_SECRET}\n\t\t}\n\t}\n}\n", viaBucket, s3url, ak) +
		fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tmedia /media/ %s\n\t}\n}\n", viaLocal, local) +
		fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tmedia /media/ s3://bench-media/media {\n\t\t\tendpoint %s\n\t\t\taccess_key %s\n\t\t\tsecret_key {env.BENCH_S3_SECRET}\n\t\t\tcache_dir %s\n\t\t\tcache_ttl 10m\n\t\t}\n\t}\n}\n", viaCache, s3url, ak, filepath.Join(dir, "cache"))
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

	type row struct {
		name                  string
		viaBucket, direct, fs *target
	}
	var rows []row
	dur := min(b.dur, 3*time.Second)
	for _, o := range bucketMediaSizes {
		path := "/media/obj-" + o.name + ".bin"
		want := wantFile(200, o.size, "")
		r := row{name: o.name,
			viaBucket: &target{name: "bucket " + o.name + " django_files", url: b.url(viaBucket, path), want: want, cpuPID: cp.pid()},
			direct:    &target{name: "bucket " + o.name + " presigned", url: urls[o.name], want: want, cpuPID: s3p.pid()},
			fs:        &target{name: "local " + o.name + " django_files", url: b.url(viaLocal, path), want: want, cpuPID: cp.pid()},
		}
		b.measure([]*target{r.viaBucket, r.direct, r.fs}, b.rounds, o.conns, dur, "")
		rows = append(rows, r)
	}
	// the cache: a hot 4 KB object against the same from a directory
	hotPath := "/media/obj-4KB.bin"
	cached := &target{name: "cached 4KB django_files", url: b.url(viaCache, hotPath), want: wantFile(200, 4<<10, ""), cpuPID: cp.pid()}
	localHot := &target{name: "local 4KB django_files ", url: b.url(viaLocal, hotPath), want: wantFile(200, 4<<10, ""), cpuPID: cp.pid()}
	b.measure([]*target{cached, localHot}, b.rounds, 32, dur, "")
	hitsPerReq, hitsNote := bucketRequestsPerClientRequest(fmt.Sprintf("http://127.0.0.1:%d", admin), b.url(viaCache, hotPath))
	perReq, perReqNote := bucketRequestsPerClientRequest(fmt.Sprintf("http://127.0.0.1:%d", admin), b.url(viaBucket, "/media/obj-4KB.bin"))
	rssBefore, rssPeak, memNote := rssDuring(b, cp.pid(), b.url(viaBucket, "/media/obj-5MB.bin"), 50, dur)

	b.printf("versitygw %s (an S3 gateway over a directory, the tests' server; keep-alive on, no access log) on loopback; `django_files` serves `media /media/ s3://bench-media/media` (one signed GET per client request) and, for reference, the same files from a local directory; \"presigned\" is wrk straight to a presigned URL of the same object on the same server. wrk -t1 -d%s, %d rounds, 32 connections for 4 KB, 8 for 5 MB. Latency: the median over rounds of wrk's p50 / p99.\n\n", testkit.VersitygwVersion, dur, b.rounds)
	b.printf("| object | django_files from the bucket | presigned GET direct | django_files from a directory | bucket / presigned | bucket / directory |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		bd, _, _ := ratio(r.viaBucket, r.direct)
		bl, _, _ := ratio(r.viaBucket, r.fs)
		b.printf("| %s req/s | %s | %s | %s | %s | %s |\n", r.name, r.viaBucket.cell(reqs), r.direct.cell(reqs), r.fs.cell(reqs), bd, bl)
		b.printf("| %s p50 / p99 | %s | %s | %s | | |\n", r.name, r.viaBucket.latCell(), r.direct.latCell(), r.fs.latCell())
		b.printf("| %s CPU per request (Caddy; versitygw for direct) | %s | %s | %s | | |\n", r.name, r.viaBucket.cpuCell(), r.direct.cpuCell(), r.fs.cpuCell())
		b.wantRatio("10", r.name+" object: django_files from the bucket / presigned GET direct", r.viaBucket, r.direct, 0.90, "≥ 0.90×")
		b.verdict("10", r.name+" object: django_files from the bucket / from a directory", bl, "report", "—")
	}
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
