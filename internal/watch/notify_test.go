package watch

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// TestNotifyRegistersEveryDirectory: inotify watches one directory, not a
// tree: every directory below the root is registered.
func TestNotifyRegistersEveryDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a/b/c", "a/d", "e"} {
		write(t, filepath.Join(dir, d, "x.py"), "x")
	}
	_, ch := start(t, Options{Root: dir, Method: Notify, Debounce: 50 * time.Millisecond})
	write(t, filepath.Join(dir, "a/b/c/x.py"), "y")
	write(t, filepath.Join(dir, "a/d/x.py"), "y")
	write(t, filepath.Join(dir, "e/x.py"), "y")
	ch.until(t, "a/b/c/x.py", "a/d/x.py", "e/x.py")
}

// TestFallbackToPolling: when fsnotify cannot be used (here: no inotify
// instance left, as fs.inotify.max_user_instances allows), Auto polls and
// says why, and Notify fails.
func TestFallbackToPolling(t *testing.T) {
	newNotifier = func() (*fsnotify.Watcher, error) { return nil, syscall.EMFILE }
	defer func() { newNotifier = fsnotify.NewWatcher }()
	dir := t.TempDir()
	w, ch := start(t, Options{Root: dir, PollInterval: 50 * time.Millisecond})
	if w.Method() != Poll || !strings.Contains(w.Reason(), "too many open files") {
		t.Errorf("method %q (%s), want poll with the reason", w.Method(), w.Reason())
	}
	write(t, filepath.Join(dir, "x.py"), "x")
	ch.until(t, "x.py")
	if w, err := New(Options{Root: dir, Method: Notify}, func([]string) {}); err == nil {
		w.Close()
		t.Error("Notify: no error")
	}
}
