package caddydjango

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBucketMediaCache: with cache_dir, a hot object costs the bucket one
// request, then none while it is fresh (GET, HEAD, ranges and 304s answered
// from disk with the media headers); after cache_ttl one conditional GET
// revalidates it (304: kept; a new version: replaced; deleted: 404); the
// cache stays within cache_size, takes no object over a quarter of it, and
// keeps answering while the bucket is down.
func TestBucketMediaCache(t *testing.T) {
	s := startS3(t)
	c := newBucket(t, s, "cached")
	avatar := append([]byte("\x89PNG\r\n\x1a\n"), randomBytes(t, 4<<10)...)
	putObject(t, c, "m/avatar.png", avatar, "image/png")
	putObject(t, c, "m/big.bin", randomBytes(t, 2<<20), "")
	for i := range 8 {
		putObject(t, c, fmt.Sprintf("m/small-%d.png", i), randomBytes(t, 10<<10), "image/png")
	}
	cacheDir, smallDir := filepath.Join(t.TempDir(), "cache"), filepath.Join(t.TempDir(), "small")
	mustWrite(t, filepath.Join(cacheDir, "obj-left-by-a-previous-caddy"), "stale")
	tester := newFilesTester(t)
	port, small := freePort(t), freePort(t)
	loadFilesConfig(t, tester, filesSite(port, "upstream 127.0.0.1:1",
		bucketMedia(t, s, "/media/", "cached", "m", fmt.Sprintf("\t\t\tcache_dir %s\n\t\t\tcache_size 4MiB\n\t\t\tcache_ttl 2s\n", cacheDir)))+
		filesSite(small, "upstream 127.0.0.1:1",
			bucketMedia(t, s, "/media/", "cached", "m", fmt.Sprintf("\t\t\tcache_dir %s\n\t\t\tcache_size 40KiB\n\t\t\tcache_ttl 1h\n", smallDir))))
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(port int, method, path string, hdr map[string]string) (int, http.Header, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, site(port)+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, body
	}
	// bucket requests for key, once a marker request (never cached: over
	// the size limit) is in the bucket's log after everything before it
	seq := 0
	settled := func(key string) int {
		t.Helper()
		seq++
		if st, _, _ := get(port, http.MethodGet, "/media/big.bin", map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", seq, seq)}); st != 206 {
			t.Fatalf("marker: %d", st)
		}
		want := s.CountRequests("cached", "m/big.bin")
		waitFor(t, 10*time.Second, func() bool { return s.CountRequests("cached", "m/big.bin") >= want && want >= seq }, "the marker in the bucket's log")
		return s.CountRequests("cached", key)
	}

	st, h, body := get(port, http.MethodGet, "/media/avatar.png", nil)
	if st != 200 || !bytes.Equal(body, avatar) {
		t.Fatalf("first GET: %d, %d bytes", st, len(body))
	}
	etag := h.Get("ETag")
	if _, err := os.Stat(filepath.Join(cacheDir, "obj-left-by-a-previous-caddy")); !os.IsNotExist(err) {
		t.Errorf("a previous process's cache file is still there: %v", err)
	}
	first := settled("m/avatar.png")
	for i := range 20 {
		var hdr map[string]string
		method, want := http.MethodGet, 200
		switch i % 4 {
		case 1:
			method = http.MethodHead
		case 2:
			hdr, want = map[string]string{"Range": "bytes=0-7"}, 206
		case 3:
			hdr, want = map[string]string{"If-None-Match": etag}, 304
		}
		st, h, body := get(port, method, "/media/avatar.png", hdr)
		if st != want {
			t.Fatalf("cached %s %v: %d, want %d", method, hdr, st, want)
		}
		wantHeader(t, h, "X-Content-Type-Options", "nosniff")
		wantHeader(t, h, "Content-Security-Policy", "sandbox")
		if want == 200 && (h.Get("Content-Type") != "image/png" || h.Get("ETag") != etag || h.Get("Cache-Control") != "public, max-age=86400") {
			t.Errorf("cached answer's header: %v", h)
		}
		if want == 206 && string(body) != "\x89PNG\r\n\x1a\n" {
			t.Errorf("cached range: %q", body)
		}
	}
	if n := settled("m/avatar.png") - first; n != 0 {
		t.Errorf("20 requests for a cached object cost %d bucket requests", n)
	}

	// after the TTL: revalidated with one conditional GET (a 304 from the bucket)
	before := settled("m/avatar.png")
	waitFor(t, 15*time.Second, func() bool {
		get(port, http.MethodGet, "/media/avatar.png", nil)
		n := 0
		for _, r := range s.Requests() {
			if r.Key == "m/avatar.png" && r.Status == 304 {
				n++
			}
		}
		return n > 0
	}, "a revalidation (304 from the bucket) after cache_ttl")
	if n := settled("m/avatar.png") - before; n != 1 {
		t.Errorf("revalidation cost %d bucket requests in one TTL, want 1", n)
	}

	// a new version replaces it; a deleted object is gone
	newer := append([]byte("\x89PNG\r\n\x1a\n"), randomBytes(t, 3<<10)...)
	putObject(t, c, "m/avatar.png", newer, "image/png")
	waitFor(t, 15*time.Second, func() bool {
		_, _, body := get(port, http.MethodGet, "/media/avatar.png", nil)
		return bytes.Equal(body, newer)
	}, "the new version after cache_ttl")
	if err := c.Delete(context.Background(), "m/avatar.png"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() bool {
		st, _, _ := get(port, http.MethodGet, "/media/avatar.png", nil)
		return st == 404
	}, "404 for the deleted object after cache_ttl")

	// bounded: 8 objects of 10 KiB into 40 KiB; 2 MiB is over a quarter of 4 MiB
	for i := range 8 {
		if st, _, _ := get(small, http.MethodGet, fmt.Sprintf("/media/small-%d.png", i), nil); st != 200 {
			t.Fatalf("small-%d: %d", i, st)
		}
	}
	var total int64
	files, _ := os.ReadDir(smallDir)
	for _, f := range files {
		fi, _ := f.Info()
		total += fi.Size()
	}
	if total > 40<<10 || len(files) != 4 {
		t.Errorf("cache of 40 KiB holds %d files, %d bytes", len(files), total)
	}
	if files, _ := filepath.Glob(filepath.Join(cacheDir, "obj-*")); len(files) != 0 {
		t.Errorf("%d objects cached after the only cacheable one was deleted (2 MiB is over the limit)", len(files))
	}

	// the bucket down: what is cached is still sent, fresh or stale (its
	// revalidation fails: an `error` outcome)
	if st, _, _ := get(small, http.MethodGet, "/media/small-7.png", nil); st != 200 {
		t.Fatal(st)
	}
	if st, _, _ := get(port, http.MethodGet, "/media/small-1.png", nil); st != 200 {
		t.Fatal(st)
	}
	s.Stop()
	if st, _, body := get(small, http.MethodGet, "/media/small-7.png", nil); st != 200 || len(body) != 10<<10 {
		t.Errorf("a cached object with the bucket down: %d, %d bytes", st, len(body))
	}
	if st, _, _ := get(small, http.MethodGet, "/media/small-0.png", nil); st != 502 {
		t.Errorf("an evicted object with the bucket down: %d", st)
	}
	failed := func() float64 {
		return scrapeMetrics(t, fmt.Sprintf("http://localhost:%d/metrics", filesAdmin))[`caddy_django_bucket_requests_total{bucket="cached",outcome="error"}`]
	}
	f0 := failed()
	waitFor(t, 15*time.Second, func() bool {
		st, _, body := get(port, http.MethodGet, "/media/small-1.png", nil)
		if st != 200 || len(body) != 10<<10 {
			t.Fatalf("a stale cached object with the bucket down: %d, %d bytes", st, len(body))
		}
		return failed() > f0
	}, "a failed revalidation after cache_ttl, the stale copy sent")
	if n := scrapeMetrics(t, fmt.Sprintf("http://localhost:%d/metrics", filesAdmin))[`caddy_django_bucket_cache_hits_total{bucket="cached"}`]; n < 20 {
		t.Errorf("caddy_django_bucket_cache_hits_total: %v", n)
	}
}
