package watch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// batches collects what a Watcher reports.
type batches chan []string

func start(t *testing.T, opts Options) (*Watcher, batches) {
	t.Helper()
	ch := make(batches, 100)
	w, err := New(opts, func(b []string) { ch <- b })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, ch
}

// until waits (10s at most) for a batch holding every name of want and
// returns everything reported meanwhile.
func (ch batches) until(t *testing.T, want ...string) []string {
	t.Helper()
	var seen []string
	deadline := time.After(10 * time.Second)
	for {
		if !slices.ContainsFunc(want, func(w string) bool { return !slices.Contains(seen, w) }) {
			return seen
		}
		select {
		case b := <-ch:
			seen = append(seen, b...)
		case <-deadline:
			t.Fatalf("timed out waiting for %v; reported: %v", want, seen)
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReportsMatchingChanges: files matching the patterns, at any depth,
// are reported, relative to the root; others and excluded ones are not.
func TestReportsMatchingChanges(t *testing.T) {
	for _, method := range []string{Notify, Poll} {
		t.Run(method, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "app", "views.py"), "a")
			write(t, filepath.Join(dir, "node_modules", "x.py"), "a")
			w, ch := start(t, Options{Root: dir, Method: method, PollInterval: 50 * time.Millisecond,
				Include: []string{"**/*.py", "**/templates/**"}, Exclude: []string{"**/node_modules", "**/__pycache__"}})
			if w.Method() != method {
				t.Fatalf("method %q, want %q", w.Method(), method)
			}
			write(t, filepath.Join(dir, "app", "views.py"), "b")
			write(t, filepath.Join(dir, "app", "templates", "app", "page.html"), "b")
			write(t, filepath.Join(dir, "app", "notes.txt"), "b")
			write(t, filepath.Join(dir, "node_modules", "x.py"), "b")
			write(t, filepath.Join(dir, "app", "__pycache__", "views.cpython-311.pyc"), "b")
			write(t, filepath.Join(dir, "manage.py"), "b") // last: the others came before
			seen := ch.until(t, "app/views.py", "app/templates/app/page.html", "manage.py")
			for _, no := range []string{"app/notes.txt", "node_modules/x.py", "app/__pycache__/views.cpython-311.pyc"} {
				if slices.Contains(seen, no) {
					t.Errorf("%s reported: %v", no, seen)
				}
			}
		})
	}
}

// TestNewDirectories: a directory created after the start is watched, and
// the files it held before it was registered count as changed.
func TestNewDirectories(t *testing.T) {
	for _, method := range []string{Notify, Poll} {
		t.Run(method, func(t *testing.T) {
			dir := t.TempDir()
			_, ch := start(t, Options{Root: dir, Method: method, PollInterval: 50 * time.Millisecond, Include: []string{"**/*.py"}})
			write(t, filepath.Join(dir, "shop", "models", "order.py"), "a")
			ch.until(t, "shop/models/order.py")
			write(t, filepath.Join(dir, "shop", "models", "cart.py"), "a")
			ch.until(t, "shop/models/cart.py")
		})
	}
}

// TestRemovalsAndTouch: a removed file, a renamed one (both names) and a
// touched one (attributes only) count as changed.
func TestRemovalsAndTouch(t *testing.T) {
	for _, method := range []string{Notify, Poll} {
		t.Run(method, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range []string{"a.py", "b.py", "c.py"} {
				write(t, filepath.Join(dir, n), "x")
			}
			_, ch := start(t, Options{Root: dir, Method: method, PollInterval: 50 * time.Millisecond, Include: []string{"**/*.py"}})
			if err := os.Remove(filepath.Join(dir, "a.py")); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(dir, "b.py"), filepath.Join(dir, "d.py")); err != nil {
				t.Fatal(err)
			}
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(filepath.Join(dir, "c.py"), later, later); err != nil {
				t.Fatal(err)
			}
			ch.until(t, "a.py", "b.py", "d.py", "c.py")
		})
	}
}

// TestIgnore: paths Ignore refuses are not reported, nor walked.
func TestIgnore(t *testing.T) {
	for _, method := range []string{Notify, Poll} {
		t.Run(method, func(t *testing.T) {
			dir := t.TempDir()
			media := filepath.Join(dir, "media")
			write(t, filepath.Join(media, "old.py"), "a")
			_, ch := start(t, Options{Root: dir, Method: method, PollInterval: 50 * time.Millisecond,
				Ignore: func(p string) bool { return p == media || strings.HasPrefix(p, media+string(filepath.Separator)) }})
			write(t, filepath.Join(media, "upload.py"), "a")
			write(t, filepath.Join(dir, "marker.py"), "a")
			if seen := ch.until(t, "marker.py"); slices.Contains(seen, "media/upload.py") {
				t.Errorf("an ignored path was reported: %v", seen)
			}
		})
	}
}

// TestDebounce: a burst of changes is reported as one batch, each file
// once.
func TestDebounce(t *testing.T) {
	dir := t.TempDir()
	_, ch := start(t, Options{Root: dir, Method: Notify, Debounce: 500 * time.Millisecond})
	var want []string
	for i := range 20 {
		name := filepath.Join(dir, "f"+string(rune('a'+i))+".py")
		write(t, name, "1")
		write(t, name, "2")
		want = append(want, filepath.Base(name))
	}
	select {
	case b := <-ch:
		if !slices.Equal(b, want) {
			t.Errorf("first batch %v, want %v in one batch", b, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no batch")
	}
}

// TestAutoUsesNotifyOnALocalDisk: the temporary directory is on a local
// filesystem (or tmpfs): fsnotify.
func TestAutoUsesNotifyOnALocalDisk(t *testing.T) {
	w, _ := start(t, Options{Root: t.TempDir()})
	if w.Method() != Notify || w.Reason() != "" {
		t.Errorf("method %q (%s), want notify", w.Method(), w.Reason())
	}
}

// TestBadInput: a malformed pattern, a missing root, an unknown method.
func TestBadInput(t *testing.T) {
	for _, o := range []Options{
		{Root: t.TempDir(), Include: []string{"[a"}},
		{Root: t.TempDir(), Exclude: []string{"{a"}},
		{Root: filepath.Join(t.TempDir(), "missing")},
		{Root: t.TempDir(), Method: "inotify"},
	} {
		if w, err := New(o, func([]string) {}); err == nil {
			w.Close()
			t.Errorf("%+v: no error", o)
		}
	}
}
