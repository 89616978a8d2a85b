package caddydjango

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/encode"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// staticCache serves the hashed static files (the manifest's values) from
// memory with header sets computed once, the way WhiteNoise serves from its
// table of files known at start: no open, stat or sendfile per request.
// Its responses are the ones the file_server path gives for the same file
// (same headers, ETag and Last-Modified from the file's mtime and size,
// the same Accept-Encoding choice among the .br, .zst and .gz sidecars);
// conditional and Range requests go through http.ServeContent, as in
// file_server, over the bytes in memory.
//
// The table is built in the background from the filesystem the file_server
// uses (confined to STATIC_ROOT unless follow_symlinks), at the first static
// request and again whenever the manifest changes (a new collectstatic) or
// the compressor wrote sidecars; until it is ready, and for every file not
// in it (not hashed, too large, over the total budget), requests go through
// file_server. Nothing is read during `caddy validate` or `adapt`: they
// serve no request.
type staticCache struct {
	dir      string // for logs and metrics
	fsys     fs.FS
	maxTotal int64
	maxFile  int64
	// the Cache-Control value of hashed files
	cacheControl string
	logger       *zap.Logger

	table atomic.Pointer[cacheTable]
	hits  prometheus.Counter // responses served from memory

	mu       sync.Mutex
	gen      uint64 // incremented by invalidate: a build started before is dropped
	building bool
	closed   bool
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// cacheTable is the cache built from one manifest state.
type cacheTable struct {
	from  *manifestState
	files map[string]*cachedFile
	bytes int64 // the bodies' total size
}

// cachedFile is one hashed file: its bytes and those of its sidecars.
type cachedFile struct {
	name     string // base name, for http.ServeContent
	modTime  time.Time
	identity *cachedBody
	encoded  map[string]*cachedBody // by Content-Encoding (br, zstd, gzip)
}

// cachedBody is one representation of a file and the headers that go with
// it (in cacheHeaderKeys order; empty values are not sent).
type cachedBody struct {
	data   []byte
	values [len(cacheHeaderKeys)]string
}

// The headers of a cached response, in the order of cachedBody.values.
// Vary is added (as file_server does) rather than set.
var cacheHeaderKeys = [...]string{
	"Cache-Control", "Access-Control-Allow-Origin", "Content-Type", "Content-Encoding",
	"Etag", "Last-Modified", "Accept-Ranges", "Content-Length",
}

const (
	hdrContentEncoding = 3
	hdrLastModified    = 5
	hdrAcceptRanges    = 6
	hdrContentLength   = 7
)

// precompressedSidecars are the encodings file_server serves from
// sidecars, with their suffixes, in its order of preference.
var precompressedSidecars = []struct{ encoding, suffix string }{
	{"br", ".br"}, {"zstd", ".zst"}, {"gzip", ".gz"},
}

var precompressedOrder = []string{"br", "zstd", "gzip"}

const (
	defaultStaticCacheSize     = 32 << 20
	defaultStaticCacheFileSize = 512 << 10
)

// conditionalHeaders are the request headers that make http.ServeContent
// answer other than 200 with the whole body.
var conditionalHeaders = []string{"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"}

// newStaticCache is a cache over fsys (the static root), empty until the
// first static request.
func newStaticCache(dir string, fsys fs.FS, maxTotal, maxFile int64, cacheControl string, logger *zap.Logger) *staticCache {
	c := &staticCache{dir: dir, fsys: fsys, maxTotal: maxTotal, maxFile: maxFile, cacheControl: cacheControl, logger: logger,
		hits: staticCacheHits.WithLabelValues(dir)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	liveCaches.add(c)
	return c
}

// serve answers the request for the static file rel from memory when the
// cache holds it for the manifest state st, and reports whether it did.
// A table built from another state is not used (file_server answers) and
// a new one is built in the background.
func (c *staticCache) serve(w http.ResponseWriter, r *http.Request, rel string, st *manifestState) bool {
	f := c.lookup(w, r, rel, st)
	if f == nil {
		return false
	}
	c.hits.Inc()
	b := f.pick(r)
	if !conditional(r) {
		setCachedHeaders(w.Header(), b, len(cacheHeaderKeys))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(b.data)
		}
		return true
	}
	// http.ServeContent sets Last-Modified, Accept-Ranges and
	// Content-Length itself, and answers 304, 206, 412 or 416
	hdr := w.Header()
	setCachedHeaders(hdr, b, hdrLastModified)
	if _, ok := r.Header["Range"]; !ok && b.values[hdrContentEncoding] != "" {
		// as file_server: Content-Length for a whole encoded body
		hdr["Content-Length"] = []string{b.values[hdrContentLength]}
	}
	http.ServeContent(w, r, f.name, f.modTime, bytes.NewReader(b.data))
	return true
}

// lookup is the cached file for rel, or nil when the table is not st's (a
// new one is then built) or file_server must answer: a header set before
// (by the `header` directive) or an error route changes what it does.
func (c *staticCache) lookup(w http.ResponseWriter, r *http.Request, rel string, st *manifestState) *cachedFile {
	t := c.table.Load()
	if t == nil || t.from != st {
		c.refresh(st)
		return nil
	}
	f := t.files[rel]
	if f == nil {
		return nil
	}
	hdr := w.Header()
	if _, ok := hdr["Content-Type"]; ok {
		return nil
	}
	if _, ok := hdr["Etag"]; ok {
		return nil
	}
	if r.Context().Value(caddyhttp.ErrorCtxKey) != nil {
		return nil
	}
	return f
}

// conditional reports whether r has a header that can make
// http.ServeContent answer other than 200 with the whole body.
func conditional(r *http.Request) bool {
	for _, k := range conditionalHeaders {
		if _, ok := r.Header[k]; ok {
			return true
		}
	}
	return false
}

// setCachedHeaders sets the first n of b's headers (fresh slices: a later
// handler may change values in place) and adds Vary, as file_server does.
func setCachedHeaders(hdr http.Header, b *cachedBody, n int) {
	vals := make([]string, n)
	copy(vals, b.values[:n])
	for i, k := range cacheHeaderKeys[:n] {
		if vals[i] != "" {
			hdr[k] = vals[i : i+1 : i+1]
		}
	}
	hdr["Vary"] = append(hdr["Vary"], "Accept-Encoding")
}

// pick chooses the representation file_server would: the first encoding
// the client accepts (in Caddy's order of preference) that has a sidecar.
func (f *cachedFile) pick(r *http.Request) *cachedBody {
	if len(f.encoded) == 0 || len(r.Header["Accept-Encoding"]) == 0 {
		return f.identity
	}
	for _, ae := range acceptedEncodings(r) {
		if b := f.encoded[ae]; b != nil {
			return b
		}
	}
	return f.identity
}

// acceptedEncodings is Caddy's encode.AcceptedEncodings (what file_server
// uses) in precompressedOrder, remembered for the first aeMemoMax
// Accept-Encoding values: browsers send a handful of them, and parsing
// costs more than the rest of a cached response.
func acceptedEncodings(r *http.Request) []string {
	v := r.Header["Accept-Encoding"]
	if len(v) != 1 || len(r.Header["Sec-Websocket-Key"]) > 0 {
		return encode.AcceptedEncodings(r, precompressedOrder)
	}
	if encs, ok := aeMemo.Load(v[0]); ok {
		return encs.([]string)
	}
	encs := encode.AcceptedEncodings(r, precompressedOrder)
	if aeMemoLen.Add(1) <= aeMemoMax {
		aeMemo.Store(v[0], encs)
	}
	return encs
}

const aeMemoMax = 256

var (
	aeMemo    sync.Map // Accept-Encoding value → []string (never modified)
	aeMemoLen atomic.Int64
)

// refresh builds a table for st in the background unless a build is
// running (it is then asked for again by a later request).
func (c *staticCache) refresh(st *manifestState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.building || c.closed {
		return
	}
	c.building = true
	gen := c.gen
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		start := time.Now()
		t := c.build(st)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.building = false
		if t == nil || gen != c.gen || c.closed {
			return
		}
		c.table.Store(t)
		c.logger.Info("static files cached in memory", zap.String("dir", c.dir), zap.Int("files", len(t.files)),
			zap.Int64("bytes", t.bytes), zap.Duration("took", time.Since(start)))
	}()
}

// invalidate drops the table (sidecars were written): the next static
// request builds a new one.
func (c *staticCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.table.Store(nil)
}

// close stops a build in progress and releases the memory.
func (c *staticCache) close() {
	c.mu.Lock()
	c.closed = true
	c.cancel()
	c.mu.Unlock()
	c.wg.Wait()
	c.table.Store(nil)
	liveCaches.remove(c)
}

// build reads the manifest's hashed files (in name order, so the same tree
// always gives the same table) while they fit the budget; nil when
// cancelled.
func (c *staticCache) build(st *manifestState) *cacheTable {
	t := &cacheTable{from: st, files: map[string]*cachedFile{}}
	names := make([]string, 0, len(st.hashed))
	for name := range st.hashed {
		if safeRelName(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if c.ctx.Err() != nil {
			return nil
		}
		if t.bytes >= c.maxTotal {
			break
		}
		if f, size := c.load(name, c.maxTotal-t.bytes); f != nil {
			t.files[name] = f
			t.bytes += size
		}
	}
	return t
}

// cacheEntryBytes is what a cached representation costs in memory besides
// its bytes (its header values, its structs, its entry in the table): counted
// in the budget, so that cache_size bounds the memory of many small files too
// (50,000 files of 400 bytes took 53 MiB under a 32 MiB cache_size).
const cacheEntryBytes = 512

// load reads name and its sidecars when they all fit in budget bytes (each
// at most maxFile), entries counted; nil when one of them cannot be cached,
// so that file_server, which would see it, answers.
func (c *staticCache) load(name string, budget int64) (*cachedFile, int64) {
	data, fi, ok := readRegular(c.fsys, name, min(c.maxFile, budget-cacheEntryBytes))
	if !ok {
		return nil, 0
	}
	f := &cachedFile{name: fi.Name(), modTime: fi.ModTime()}
	if !usefulModTime(f.modTime) {
		f.modTime = time.Time{}
	}
	f.identity = c.body(f, data, fi, "")
	total := int64(len(data)) + cacheEntryBytes
	for _, sc := range precompressedSidecars {
		sfi, err := fs.Stat(c.fsys, name+sc.suffix)
		if err != nil || sfi.IsDir() {
			continue // file_server does not use it either
		}
		sdata, sfi, ok := readRegular(c.fsys, name+sc.suffix, min(c.maxFile, budget-total-cacheEntryBytes))
		if !ok {
			return nil, 0
		}
		if f.encoded == nil {
			f.encoded = map[string]*cachedBody{}
		}
		f.encoded[sc.encoding] = c.body(f, sdata, sfi, sc.encoding)
		total += int64(len(sdata)) + cacheEntryBytes
	}
	return f, total
}

// body is one representation of f with its headers: data is the file
// described by fi (the original or a sidecar).
func (c *staticCache) body(f *cachedFile, data []byte, fi fs.FileInfo, encoding string) *cachedBody {
	b := &cachedBody{data: data}
	lastMod := ""
	if !f.modTime.IsZero() {
		lastMod = f.modTime.UTC().Format(http.TimeFormat)
	}
	b.values = [len(cacheHeaderKeys)]string{
		c.cacheControl, "*", contentType(f.name), encoding,
		fileETag(fi), lastMod, "bytes", strconv.Itoa(len(data)),
	}
	return b
}

// readRegular reads the regular file name from fsys when it is at most max
// bytes, checking that what was read is the whole file.
func readRegular(fsys fs.FS, name string, max int64) ([]byte, fs.FileInfo, bool) {
	file, err := fsys.Open(name)
	if err != nil {
		return nil, nil, false
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > max {
		return nil, nil, false
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(file, data); err != nil {
		return nil, nil, false
	}
	if n, _ := file.Read(make([]byte, 1)); n != 0 {
		return nil, nil, false // grew meanwhile
	}
	return data, fi, true
}

// fileETag is file_server's ETag for a file: its mtime and size in base 36
// (none for a useless mtime).
func fileETag(fi fs.FileInfo) string {
	if !usefulModTime(fi.ModTime()) {
		return ""
	}
	return `"` + strconv.FormatInt(fi.ModTime().UnixNano(), 36) + "-" + strconv.FormatInt(fi.Size(), 36) + `"`
}

// usefulModTime is file_server's test for an mtime worth sending.
func usefulModTime(t time.Time) bool {
	u := t.Unix()
	return u != 0 && u != 1
}

// stats are the cache's current size, for the metrics.
func (c *staticCache) stats() (files int, bytes int64) {
	if t := c.table.Load(); t != nil {
		return len(t.files), t.bytes
	}
	return 0, 0
}

// liveCaches are the caches of every provisioned django_files handler (of
// the running config, and of the previous one until it is cleaned up),
// read by the metrics at scrape time.
var liveCaches = &cacheSet{m: map[*staticCache]struct{}{}}

type cacheSet struct {
	mu sync.Mutex
	m  map[*staticCache]struct{}
}

func (s *cacheSet) add(c *staticCache) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[c] = struct{}{}
}

func (s *cacheSet) remove(c *staticCache) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, c)
}

// staticCacheCollector reports the static caches' memory per static root.
type staticCacheCollector struct{}

var (
	staticCacheBytesDesc = prometheus.NewDesc(metricsNamespace+"_static_cache_bytes",
		"Bytes of static files (originals and precompressed sidecars) django_files holds in memory, per static root.", []string{"dir"}, nil)
	staticCacheFilesDesc = prometheus.NewDesc(metricsNamespace+"_static_cache_files",
		"Hashed static files django_files serves from memory, per static root.", []string{"dir"}, nil)
)

// staticCacheHits counts the responses served from memory per static root
// (a package variable, like the request metrics: it survives reloads).
var staticCacheHits = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: metricsNamespace,
	Name:      "static_cache_hits_total",
	Help:      "Static responses django_files served from memory, per static root.",
}, []string{"dir"})

// Describe implements prometheus.Collector.
func (staticCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- staticCacheBytesDesc
	ch <- staticCacheFilesDesc
}

// Collect implements prometheus.Collector.
func (staticCacheCollector) Collect(ch chan<- prometheus.Metric) {
	type sum struct {
		files int
		bytes int64
	}
	sums := map[string]*sum{}
	liveCaches.mu.Lock()
	for c := range liveCaches.m {
		s := sums[c.dir]
		if s == nil {
			s = &sum{}
			sums[c.dir] = s
		}
		n, b := c.stats()
		s.files += n
		s.bytes += b
	}
	liveCaches.mu.Unlock()
	for dir, s := range sums {
		ch <- prometheus.MustNewConstMetric(staticCacheBytesDesc, prometheus.GaugeValue, float64(s.bytes), dir)
		ch <- prometheus.MustNewConstMetric(staticCacheFilesDesc, prometheus.GaugeValue, float64(s.files), dir)
	}
}

// Interface guards
var _ prometheus.Collector = staticCacheCollector{}
