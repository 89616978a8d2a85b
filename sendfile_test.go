package caddydjango

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// Tests of the sendfile writer, in process: the *os.File itself reaches
// net/http's ReadFrom (so sendfile(2) applies) only when the copy runs to
// the end of a regular file.

// readFromRecorder records the reader its ReadFrom is given.
type readFromRecorder struct {
	http.ResponseWriter
	got io.Reader
	buf bytes.Buffer
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.got = src
	return r.buf.ReadFrom(src)
}

func TestSendfileWriterPassesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.bin")
	content := strings.Repeat("0123456789", 200)
	mustWrite(t, path, content)
	for _, tc := range []struct {
		name       string
		off, n     int64
		passesFile bool
	}{
		{"to the end of the file", 100, 1900, true},
		{"whole file", 0, 2000, true},
		{"a range that stops early", 100, 1000, false},
		{"512 bytes or less", 1500, 500, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Seek(tc.off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			rec := &readFromRecorder{ResponseWriter: httptest.NewRecorder()}
			w := &sendfileWriter{caddyhttp.ResponseWriterWrapper{ResponseWriter: rec}}
			lr := &io.LimitedReader{R: f, N: tc.n}
			n, err := w.ReadFrom(lr)
			if err != nil || n != tc.n || rec.buf.String() != content[tc.off:tc.off+tc.n] {
				t.Fatalf("copied %d (%v), want bytes %d-%d", n, err, tc.off, tc.off+tc.n)
			}
			if lr.N != 0 {
				t.Errorf("LimitedReader left at N=%d, want 0", lr.N)
			}
			if _, isFile := rec.got.(*os.File); isFile != tc.passesFile {
				t.Errorf("ReadFrom got %T, want the *os.File: %v", rec.got, tc.passesFile)
			}
		})
	}
}
