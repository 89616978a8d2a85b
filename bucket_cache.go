package caddydjango

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddy-django/caddy-django/internal/bucket"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// A bounded local cache of a bucket's objects (`cache_dir`, `cache_size`,
// `cache_ttl` among a bucket's options), so that a popular avatar costs the
// bucket nothing after its first request. An object is stored when a client
// GET brings it whole (teed to a file while it is sent: no extra request,
// no extra wait), up to a quarter of the cache's size (at most 64 MiB). For
// cache_ttl it is sent from disk (with ranges and conditional requests, by
// net/http's ServeContent) without asking the bucket; after that, one GET
// with its ETag in If-None-Match revalidates it (a 304 keeps it, a 200
// replaces it, a 404 drops it; an unreachable bucket leaves it in use). The
// least recently used objects go first when the cache is full.
//
// One cache per directory per Caddy process, kept across config reloads
// (the index is in memory; the files a previous process left are removed
// when the cache is first used). The directory must be Caddy's alone.

const (
	defaultCacheSize = 256 << 20
	defaultCacheTTL  = time.Minute
	maxCachedObject  = 64 << 20
)

// objectCache is the cache of one directory.
type objectCache struct {
	dir string

	mu       sync.Mutex
	maxBytes int64
	ttl      time.Duration
	entries  map[string]*list.Element // of *cacheEntry, most recently used first
	lru      *list.List
	bytes    int64
	ready    bool // the directory exists and holds no file of a previous process
}

// cacheEntry is one cached object.
type cacheEntry struct {
	id       string // hex hash of the bucket and key: the file's name
	etag     string
	lastMod  time.Time
	size     int64
	checked  time.Time // when the bucket last confirmed it
	encoding string    // a Content-Encoding it was stored with
}

// objectCaches are the caches by directory (never removed: the index of
// a directory no config uses any more is small, and a config that uses it
// again finds it warm).
var objectCaches = struct {
	sync.Mutex
	m map[string]*objectCache
}{m: map[string]*objectCache{}}

// cacheFor returns the cache of b's cache_dir (nil without one), taking
// b's size and time-to-live. It touches no file.
func (h *DjangoFiles) cacheFor(b *BucketConfig) (*objectCache, error) {
	if b.CacheDir == "" {
		return nil, nil
	}
	dir, err := h.resolveDir("cache_dir", b.CacheDir, "")
	if err != nil {
		return nil, err
	}
	size := b.CacheSize
	if size == 0 {
		size = defaultCacheSize
	}
	ttl := durationOr(b.CacheTTL, defaultCacheTTL)
	if size < 0 || ttl < 0 {
		return nil, errors.New("cache_size and cache_ttl must not be negative")
	}
	objectCaches.Lock()
	defer objectCaches.Unlock()
	c := objectCaches.m[dir]
	if c == nil {
		c = &objectCache{dir: dir, entries: map[string]*list.Element{}, lru: list.New()}
		objectCaches.m[dir] = c
	}
	c.mu.Lock()
	c.maxBytes, c.ttl = size, ttl
	c.mu.Unlock()
	return c, nil
}

// maxObject is the largest object the cache takes.
func (c *objectCache) maxObject() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return min(c.maxBytes/4, maxCachedObject)
}

// prepare creates the directory and removes what a previous process left
// in it (only files named as the cache names them); c.mu is held.
func (c *objectCache) prepare() error {
	if c.ready {
		return nil
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	names, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasPrefix(n.Name(), "obj-") || strings.HasPrefix(n.Name(), ".tmp-") {
			_ = os.Remove(filepath.Join(c.dir, n.Name()))
		}
	}
	c.ready = true
	return nil
}

func (c *objectCache) path(id string) string { return filepath.Join(c.dir, "obj-"+id) }

// cacheID names the object key of b's bucket in the cache.
func (b *bucketSource) cacheID(key string) string {
	sum := sha256.Sum256([]byte(b.client.Endpoint() + "\x00" + b.client.Bucket() + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

// get returns a copy of the entry for id (nil when absent), marking it used.
func (c *objectCache) get(id string) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[id]
	if el == nil {
		return nil
	}
	c.lru.MoveToFront(el)
	e := *el.Value.(*cacheEntry)
	return &e
}

// confirm records that the bucket still has the entry's version.
func (c *objectCache) confirm(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.entries[id]; el != nil {
		el.Value.(*cacheEntry).checked = time.Now()
	}
}

// remove drops id from the cache.
func (c *objectCache) remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(id)
}

func (c *objectCache) removeLocked(id string) {
	el := c.entries[id]
	if el == nil {
		return
	}
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.entries, id)
	c.bytes -= e.size
	_ = os.Remove(c.path(id)) // open copies stay readable until closed
}

// add moves the complete file tmp into the cache as e, evicting the least
// recently used objects to stay within the size.
func (c *objectCache) add(tmp string, e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(e.id)
	if e.size > c.maxBytes || os.Rename(tmp, c.path(e.id)) != nil {
		_ = os.Remove(tmp)
		return
	}
	c.entries[e.id] = c.lru.PushFront(e)
	c.bytes += e.size
	for c.bytes > c.maxBytes {
		c.removeLocked(c.lru.Back().Value.(*cacheEntry).id)
	}
}

// tempFile is a new file in the cache's directory for an object on its way
// in (nil when the directory cannot be used).
func (c *objectCache) tempFile() *os.File {
	c.mu.Lock()
	err := c.prepare()
	c.mu.Unlock()
	if err != nil {
		return nil
	}
	f, err := os.CreateTemp(c.dir, ".tmp-")
	if err != nil {
		return nil
	}
	return f
}

// serveCached answers r from the cache when it holds key: without asking
// the bucket while the copy is fresh, else after one conditional GET.
// handled is false when the cache cannot answer: the caller reads the
// bucket (and may offer the answer to the cache with teeToCache).
func (b *bucketSource) serveCached(w http.ResponseWriter, r *http.Request, key string) (handled bool, err error) {
	c, id := b.cache, b.cacheID(key)
	e := c.get(id)
	if e == nil {
		return false, nil
	}
	c.mu.Lock()
	ttl := c.ttl
	c.mu.Unlock()
	if time.Since(e.checked) >= ttl {
		obj, err := b.read(r, http.MethodGet, key, http.Header{"If-None-Match": {e.etag}})
		var be *bucket.Error
		switch {
		case err == nil && obj.StatusCode == http.StatusNotModified:
			obj.Body.Close()
			c.confirm(id)
		case err == nil && obj.StatusCode == http.StatusOK:
			// a new version: sent as it comes (whole: the client's range
			// was not asked for), and cached on the way
			c.remove(id)
			if r.Method == http.MethodHead {
				obj.Body.Close()
				return false, nil
			}
			b.teeToCache(r, key, obj)
			return true, sendObject(w, r, obj, b.onBodyError(key))
		case err == nil:
			obj.Body.Close()
			c.remove(id)
			return false, nil
		case errors.As(err, &be) && be.NotFound():
			c.remove(id)
			return true, b.errorFor(key, err)
		default:
			// the bucket cannot say: the copy it last confirmed is sent
			b.logger.Warn("the bucket cannot revalidate a cached object; the cached copy is sent",
				zap.String("bucket", b.desc), zap.String("key", key), zap.Error(err))
		}
	}
	f, err := os.Open(c.path(id))
	if err != nil {
		c.remove(id)
		return false, nil
	}
	defer f.Close()
	hdr := w.Header()
	hdr["Etag"] = []string{e.etag}
	if e.encoding != "" {
		hdr["Content-Encoding"] = []string{e.encoding}
	}
	bucketCacheHits.WithLabelValues(b.client.Bucket()).Inc()
	http.ServeContent(&sendfileWriter{caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}, r, "", e.lastMod, f)
	return true, nil
}

// teeToCache makes obj's body, when it is a whole object the cache can
// take, also go to a file that joins the cache once the last byte is read.
func (b *bucketSource) teeToCache(r *http.Request, key string, obj *bucket.Object) {
	c := b.cache
	size, err := strconv.ParseInt(obj.Header.Get("Content-Length"), 10, 64)
	etag := obj.Header.Get("ETag")
	if c == nil || r.Method != http.MethodGet || obj.StatusCode != http.StatusOK || err != nil || size > c.maxObject() || etag == "" {
		return
	}
	f := c.tempFile()
	if f == nil {
		return
	}
	lastMod, _ := http.ParseTime(obj.Header.Get("Last-Modified"))
	enc := obj.Header.Get("Content-Encoding")
	if !knownEncoding(enc) {
		enc = ""
	}
	obj.Body = &cacheTee{ReadCloser: obj.Body, f: f, c: c, want: size,
		entry: &cacheEntry{id: b.cacheID(key), etag: etag, lastMod: lastMod, size: size, checked: time.Now(), encoding: enc}}
}

// cacheTee copies what is read to a file, which joins the cache when the
// whole object was read; anything else discards it.
type cacheTee struct {
	io.ReadCloser
	f     *os.File
	c     *objectCache
	entry *cacheEntry
	want  int64
	got   int64
	done  bool
}

func (t *cacheTee) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 && t.f != nil {
		if _, werr := t.f.Write(p[:n]); werr != nil {
			t.discard()
		}
		t.got += int64(n)
	}
	if err == io.EOF && t.f != nil && t.got == t.want {
		name := t.f.Name()
		if t.f.Close() == nil {
			t.c.add(name, t.entry)
		} else {
			_ = os.Remove(name)
		}
		t.f = nil
	}
	return n, err
}

func (t *cacheTee) discard() {
	if t.f != nil {
		t.f.Close()
		_ = os.Remove(t.f.Name())
		t.f = nil
	}
}

func (t *cacheTee) Close() error {
	t.discard()
	return t.ReadCloser.Close()
}

// bucketCacheHits counts responses sent from a bucket's local cache.
var bucketCacheHits = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: metricsNamespace,
	Name:      "bucket_cache_hits_total",
	Help:      "Responses django_files sent from the local cache of a bucket's objects (cache_dir), by bucket.",
}, []string{"bucket"})
