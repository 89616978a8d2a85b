// Package watch reports the files that change under a directory tree, for
// restarting programs in development: through fsnotify (inotify on Linux)
// with every directory of the tree registered, or by polling where inotify
// cannot be used or misses changes (network and virtual filesystems, such
// as Docker Desktop's bind mounts from macOS or Windows), chosen
// automatically or forced. Changed files are kept when they match a glob
// pattern (doublestar's syntax: `**/*.py`), excluded directories are never
// descended, and a burst of changes (an editor's save, a `git checkout`)
// is reported once, after a quiet period.
package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"go.uber.org/zap"
)

// How changes are noticed.
const (
	// Auto polls when the tree is on a filesystem where inotify misses
	// changes (RemoteFS) or when fsnotify cannot be used (no inotify
	// instance left, too many directories for fs.inotify.max_user_watches),
	// and uses fsnotify otherwise.
	Auto = ""
	// Notify uses fsnotify, and fails when it cannot be used.
	Notify = "notify"
	// Poll compares the matching files' sizes and modification times every
	// PollInterval.
	Poll = "poll"
)

// Defaults.
const (
	DefaultDebounce     = 300 * time.Millisecond
	DefaultPollInterval = time.Second
)

// Overflow is the path reported when the kernel dropped events (its queue
// overflowed): any file may have changed.
const Overflow = "*"

// Options says what to watch and how.
type Options struct {
	// Root is the directory watched, with everything below it.
	Root string
	// Include are glob patterns (doublestar: `*`, `?`, `[…]`, `{a,b}`,
	// `**` for any number of directories) that a changed file's path
	// relative to Root, with `/` separators, must match. None: every file.
	Include []string
	// Exclude are glob patterns of paths (relative to Root) that are
	// ignored: a file, or a directory with everything below it, which is
	// then never registered or walked.
	Exclude []string
	// Ignore, when set, is asked about every absolute path too (a file or a
	// directory), for exclusions known only later: true ignores it.
	Ignore func(path string) bool
	// Debounce is the quiet period: changes are reported once no other
	// change came for this long (and at the latest 10 periods after the
	// first). Default: DefaultDebounce.
	Debounce time.Duration
	// Method is Auto (default), Notify or Poll.
	Method string
	// PollInterval is how often the tree is scanned when polling. Default:
	// DefaultPollInterval.
	PollInterval time.Duration
	// Logger gets what goes wrong while watching (a directory that cannot
	// be registered or read). Default: none.
	Logger *zap.Logger
}

// Watcher watches one tree until Close.
type Watcher struct {
	opts    Options
	root    string // Root, absolute, symlinks resolved
	method  string
	reason  string
	log     *zap.Logger
	changes chan string
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
	closers []func() error
}

// ValidatePatterns reports the first malformed pattern.
func ValidatePatterns(patterns []string) error {
	for _, p := range patterns {
		if !doublestar.ValidatePattern(p) {
			return fmt.Errorf("%q is not a valid glob pattern", p)
		}
	}
	return nil
}

// New starts watching: the tree is registered (or scanned once) before it
// returns, so a change made after New returns is reported. fn gets each
// batch of changed files (paths relative to Root with `/` separators,
// sorted, each once; Overflow when any file may have changed), from one
// goroutine, one batch at a time; it must not block for long (events wait
// meanwhile).
func New(opts Options, fn func(changed []string)) (*Watcher, error) {
	if err := ValidatePatterns(slices.Concat(opts.Include, opts.Exclude)); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(opts.Root)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, err
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	w := &Watcher{opts: opts, root: root, log: opts.Logger, changes: make(chan string, 256), done: make(chan struct{})}
	if w.log == nil {
		w.log = zap.NewNop()
	}
	switch opts.Method {
	case Auto, Notify, Poll:
	default:
		return nil, fmt.Errorf("method %q: want %q, %q or %q", opts.Method, Auto, Notify, Poll)
	}
	method := opts.Method
	if method == Auto {
		if fstype := RemoteFS(root); fstype != "" {
			method, w.reason = Poll, fmt.Sprintf("%s is on a %s filesystem, where inotify misses changes made outside this machine", root, fstype)
		}
	}
	if method != Poll {
		err := w.startNotify()
		if err != nil && opts.Method == Notify {
			return nil, err
		}
		method = Notify
		if err != nil {
			method, w.reason = Poll, "fsnotify cannot be used: "+err.Error()
		}
	}
	if method == Poll {
		w.startPoll()
	}
	w.method = method
	w.wg.Add(1)
	go w.batch(fn)
	return w, nil
}

// Method is how changes are noticed: Notify or Poll.
func (w *Watcher) Method() string { return w.method }

// Reason says why Auto chose to poll ("" otherwise).
func (w *Watcher) Reason() string { return w.reason }

// Root is the directory watched (absolute, symlinks resolved).
func (w *Watcher) Root() string { return w.root }

// Close stops watching and waits until the last batch was handed over.
func (w *Watcher) Close() error {
	var err error
	w.once.Do(func() {
		close(w.done)
		for _, c := range w.closers {
			err = errors.Join(err, c())
		}
		w.wg.Wait()
	})
	return err
}

// rel is path relative to the root with `/` separators ("" for the root
// itself or a path outside it).
func (w *Watcher) rel(path string) string {
	r, err := filepath.Rel(w.root, path)
	if err != nil || r == "." || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return ""
	}
	return filepath.ToSlash(r)
}

// skipped reports whether the path (absolute, and rel to the root) is
// excluded or ignored.
func (w *Watcher) skipped(path, rel string) bool {
	for _, p := range w.opts.Exclude {
		if ok, _ := doublestar.Match(p, rel); ok {
			return true
		}
	}
	return w.opts.Ignore != nil && w.opts.Ignore(path)
}

// included reports whether a file's rel path matches an Include pattern.
func (w *Watcher) included(rel string) bool {
	if len(w.opts.Include) == 0 {
		return true
	}
	for _, p := range w.opts.Include {
		if ok, _ := doublestar.Match(p, rel); ok {
			return true
		}
	}
	return false
}

// wanted reports whether a change of the file at path (rel) is reported.
func (w *Watcher) wanted(path, rel string) bool {
	return rel != "" && w.included(rel) && !w.skipped(path, rel)
}

// walk calls fileFn for every file and dirFn for every directory of the
// tree at dir (dir included) that is not skipped; neither follows symlinks.
// A dirFn error ends the walk; unreadable directories are logged.
func (w *Watcher) walk(dir string, dirFn func(path string) error, fileFn func(path, rel string, d fs.DirEntry)) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path != dir && !errors.Is(err, fs.ErrNotExist) {
				w.log.Warn("cannot read a directory to watch", zap.String("dir", path), zap.Error(err))
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel := w.rel(path)
		if rel != "" && w.skipped(path, rel) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if dirFn != nil {
				return dirFn(path)
			}
			return nil
		}
		if fileFn != nil && rel != "" && w.included(rel) {
			fileFn(path, rel, d)
		}
		return nil
	})
}

// emit hands a changed file (rel) to the batcher.
func (w *Watcher) emit(rel string) {
	select {
	case w.changes <- rel:
	case <-w.done:
	}
}

// batch collects changes and hands them to fn once no change came for the
// debounce period (at the latest 10 periods after the first).
func (w *Watcher) batch(fn func([]string)) {
	defer w.wg.Done()
	pending := map[string]bool{}
	var timer *time.Timer
	var fire <-chan time.Time
	var first time.Time
	for {
		select {
		case rel := <-w.changes:
			pending[rel] = true
			now := time.Now()
			if timer == nil {
				first = now
				timer = time.NewTimer(w.opts.Debounce)
				fire = timer.C
				continue
			}
			timer.Reset(min(w.opts.Debounce, first.Add(10*w.opts.Debounce).Sub(now)))
		case <-fire:
			out := make([]string, 0, len(pending))
			for rel := range pending {
				out = append(out, rel)
			}
			slices.Sort(out)
			clear(pending)
			timer, fire = nil, nil
			fn(out)
		case <-w.done:
			if timer != nil {
				timer.Stop()
			}
			return
		}
	}
}
