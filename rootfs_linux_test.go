//go:build linux

package caddydjango

import (
	"path/filepath"
	"testing"
)

// TestRootFSOpenat2 checks that Linux uses the openat2 fast path here (so
// that TestHandlerRootFSConfines tests it) and that the os.Root fallback,
// used where openat2 is refused, confines (and hides) the same way.
func TestRootFSOpenat2(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "a.txt"), "a")
	f := &rootFS{dir: dir}
	defer f.close()
	file, err := f.Open("a.txt")
	if err != nil {
		t.Fatal(err)
	}
	file.Close()
	if !beneathSupported() || f.current().dir == nil {
		t.Skip("openat2 is not available on this kernel: only the os.Root path runs")
	}
	if _, err, ok := openBeneath(f.current().dir, "a.txt"); !ok || err != nil {
		t.Fatalf("openat2: ok=%v err=%v", ok, err)
	}

	t.Run("os.Root fallback", func(t *testing.T) {
		openat2Off.Store(true)
		defer openat2Off.Store(false)
		checkRootFSConfines(t)
		checkHideRootFS(t)
	})
}
