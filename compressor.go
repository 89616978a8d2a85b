package caddydjango

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/klauspost/compress/zstd"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(new(filesCompressor))
}

const compressorAppID = "django_files_compressor"

// filesCompressor is a small Caddy app, instantiated by django_files
// handlers that have `compress` set (it is never configured by users). It
// exists because Caddy starts apps only on a real run: `caddy validate` and
// `caddy adapt` provision handlers but start no app, so nothing is written
// then. Start compresses each static root in the background; Stop (config
// reload or shutdown) cancels and waits. Handlers trigger a new pass when
// they see a new staticfiles.json (a new collectstatic).
type filesCompressor struct {
	ctx     caddy.Context
	logger  *zap.Logger
	mu      sync.Mutex
	jobs    map[string]*compressJob
	started bool
	stopped bool
	runCtx  context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// compressJob is one static root to precompress.
type compressJob struct {
	dir       string
	encodings []string
	running   bool
	again     bool
	written   []func() // called after a pass that wrote files
}

// CaddyModule returns the Caddy module information.
func (*filesCompressor) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  compressorAppID,
		New: func() caddy.Module { return new(filesCompressor) },
	}
}

// Provision sets up the app.
func (c *filesCompressor) Provision(ctx caddy.Context) error {
	c.ctx = ctx
	c.logger = ctx.Logger()
	c.jobs = map[string]*compressJob{}
	return nil
}

// add registers dir (at provisioning), merging encodings.
func (c *filesCompressor) add(dir string, encodings []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if j, ok := c.jobs[dir]; ok {
		for _, e := range encodings {
			if !slices.Contains(j.encodings, e) {
				j.encodings = append(j.encodings, e)
			}
		}
		return
	}
	c.jobs[dir] = &compressJob{dir: dir, encodings: encodings}
}

// onWritten registers fn (at provisioning) to be called after each pass
// over dir that wrote files.
func (c *filesCompressor) onWritten(dir string, fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if j, ok := c.jobs[dir]; ok {
		j.written = append(j.written, fn)
	}
}

// Start compresses every registered static root in the background.
func (c *filesCompressor) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started = true
	c.runCtx, c.cancel = context.WithCancel(c.ctx)
	for _, j := range c.jobs {
		c.launchLocked(j)
	}
	return nil
}

// Stop cancels the work and waits for it to end.
func (c *filesCompressor) Stop() error {
	c.mu.Lock()
	c.stopped = true
	if c.cancel != nil {
		c.cancel()
	}
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

// trigger runs another pass over dir (after a new collectstatic).
func (c *filesCompressor) trigger(dir string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if j, ok := c.jobs[dir]; ok && c.started && !c.stopped {
		c.launchLocked(j)
	}
}

// launchLocked runs a pass over j's root in the background, or asks
// the running one to run again. c.mu is held.
func (c *filesCompressor) launchLocked(j *compressJob) {
	if j.running {
		j.again = true
		return
	}
	j.running = true
	encs := append([]string(nil), j.encodings...)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			start := time.Now()
			n, err := compressTree(c.runCtx, j.dir, encs)
			switch {
			case err != nil && c.runCtx.Err() == nil:
				c.logger.Error("precompressing static files", zap.String("dir", j.dir), zap.Error(err))
			case err == nil:
				c.logger.Info("precompressed static files", zap.String("dir", j.dir),
					zap.Strings("encodings", encs), zap.Int("written", n), zap.Duration("took", time.Since(start)))
			}
			c.mu.Lock()
			if n > 0 {
				for _, fn := range j.written {
					fn()
				}
			}
			if !j.again || c.stopped {
				j.running, j.again = false, false
				c.mu.Unlock()
				return
			}
			j.again = false
			c.mu.Unlock()
		}
	}()
}

// compressEncodings validates the `compress` list.
func compressEncodings(list []string) ([]string, error) {
	var out []string
	for _, e := range list {
		switch e {
		case "gzip", "zstd":
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		case "br", "brotli":
			return nil, fmt.Errorf("compress: brotli cannot be created (no pure-Go brotli encoder in Caddy's dependencies); use gzip and zstd, or create .br files at build time (they are served)")
		default:
			return nil, fmt.Errorf("compress: unknown encoding %q (use gzip, zstd)", e)
		}
	}
	return out, nil
}

var compressSuffix = map[string]string{"gzip": ".gz", "zstd": ".zst"}

// incompressibleExt are skipped (as WhiteNoise does), along with our own
// sidecars.
var incompressibleExt = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true, ".avif": true, ".jxl": true,
	".heic": true, ".zip": true, ".gz": true, ".tgz": true, ".bz2": true, ".tbz": true, ".xz": true,
	".br": true, ".zst": true, ".7z": true, ".rar": true, ".swf": true, ".flv": true, ".woff": true,
	".woff2": true, ".3gp": true, ".3gpp": true, ".asf": true, ".avi": true, ".m4v": true, ".mov": true,
	".mp4": true, ".mpeg": true, ".mpg": true, ".webm": true, ".wmv": true, ".mp3": true, ".ogg": true,
	".oga": true, ".ogv": true, ".flac": true, ".m4a": true, ".aac": true, ".opus": true,
}

// compressTree writes missing or stale sidecars for the compressible files
// under dir and returns how many it wrote.
func compressTree(ctx context.Context, dir string, encodings []string) (int, error) {
	written := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir && strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, ".") || incompressibleExt[strings.ToLower(filepath.Ext(name))] {
			return nil
		}
		info, err := os.Stat(path) // follows collectstatic --link symlinks
		if err != nil || !info.Mode().IsRegular() || info.Size() == 0 {
			return nil
		}
		for _, enc := range encodings {
			ok, err := compressFile(path, info, enc)
			if err != nil {
				return fmt.Errorf("%s: %v", path, err)
			}
			if ok {
				written++
			}
		}
		return nil
	})
	return written, err
}

// compressFile writes path's sidecar for enc unless an up-to-date one
// exists; the sidecar is kept only if it is at most 95% of the original.
func compressFile(path string, info fs.FileInfo, enc string) (bool, error) {
	target := path + compressSuffix[enc]
	if ti, err := os.Stat(target); err == nil && !ti.ModTime().Before(info.ModTime()) {
		return false, nil
	}
	src, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(target)+".tmp*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	zw, err := newCompressWriter(tmp, enc)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(zw, src); err != nil {
		return false, err
	}
	if err := zw.Close(); err != nil {
		return false, err
	}
	ti, err := tmp.Stat()
	if err != nil {
		return false, err
	}
	if ti.Size()*100 > info.Size()*95 {
		return false, nil // not worth it
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Chmod(tmp.Name(), info.Mode().Perm()); err != nil {
		return false, err
	}
	return true, os.Rename(tmp.Name(), target)
}

// newCompressWriter returns the best-compression encoder for enc.
func newCompressWriter(w io.Writer, enc string) (io.WriteCloser, error) {
	switch enc {
	case "gzip":
		return gzip.NewWriterLevel(w, gzip.BestCompression)
	case "zstd":
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	}
	return nil, fmt.Errorf("unknown encoding %q", enc)
}

// Interface guards
var (
	_ caddy.App         = (*filesCompressor)(nil)
	_ caddy.Provisioner = (*filesCompressor)(nil)
)
