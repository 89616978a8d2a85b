package caddydjango

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Tests of request-body buffering, in process: what Gunicorn is sent
// (the whole body, with an exact Content-Length), where it was kept, and
// the max_body limit.

// bufferRequest buffers a POST of body (chunked when chunked is set) with
// the given limits and returns the request as the proxy would send it.
func bufferRequest(t *testing.T, body string, chunked bool, maxBody, memLimit int64) (*http.Request, io.Closer, error) {
	t.Helper()
	h := &DjangoFiles{MaxBody: maxBody, RequestBuffer: memLimit, BufferDir: t.TempDir()}
	r := httptest.NewRequest(http.MethodPost, "/upload", strings.NewReader(body))
	if chunked {
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
		r.Body = io.NopCloser(strings.NewReader(body)) // no length to read
	}
	closer, err := h.bufferBody(httptest.NewRecorder(), r)
	if closer != nil {
		t.Cleanup(func() { closer.Close() })
	}
	if err == nil {
		entries, _ := os.ReadDir(h.BufferDir)
		if len(entries) != 0 {
			t.Errorf("spooled body left a file in buffer_dir: %v", entries)
		}
	}
	return r, closer, err
}

// wantBody checks that r now carries exactly body, with its length.
func wantBody(t *testing.T, r *http.Request, body string) {
	t.Helper()
	got, err := io.ReadAll(r.Body)
	if err != nil || string(got) != body {
		t.Fatalf("body: %d bytes (%v), want %d", len(got), err, len(body))
	}
	if r.ContentLength != int64(len(body)) || r.Header.Get("Content-Length") != strconv.Itoa(len(body)) || r.TransferEncoding != nil {
		t.Errorf("length: ContentLength %d, header %q, TransferEncoding %v; want %d, not chunked",
			r.ContentLength, r.Header.Get("Content-Length"), r.TransferEncoding, len(body))
	}
}

func TestBodyBufferInMemory(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		body := strings.Repeat("m", 1000)
		r, closer, err := bufferRequest(t, body, chunked, 1<<20, 1024)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := closer.(*memBody); !ok {
			t.Errorf("chunked=%v: a body under request_buffer is kept in %T, want memory", chunked, closer)
		}
		wantBody(t, r, body)
	}
}

func TestBodyBufferSpoolsToFile(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		body := strings.Repeat("0123456789", 1000)
		r, closer, err := bufferRequest(t, body, chunked, 1<<20, 1024)
		if err != nil {
			t.Fatal(err)
		}
		fb, ok := closer.(*fileBody)
		if !ok {
			t.Fatalf("chunked=%v: a body over request_buffer is kept in %T, want a temporary file", chunked, closer)
		}
		if !fb.removed {
			t.Error("the temporary file was not unlinked at once")
		}
		wantBody(t, r, body)
	}
}

func TestBodyBufferEmptyChunked(t *testing.T) {
	r, _, err := bufferRequest(t, "", true, 1<<20, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if r.Body != http.NoBody || r.ContentLength != 0 {
		t.Errorf("empty chunked body: %T, ContentLength %d; want http.NoBody, 0", r.Body, r.ContentLength)
	}
}

func TestBodyBufferMaxBody(t *testing.T) {
	for _, tc := range []struct {
		name     string
		chunked  bool
		memLimit int64
	}{
		{"declared length", false, 1024},
		{"chunked, in memory", true, 1 << 20},
		{"chunked, spooled", true, 1024},
	} {
		_, _, err := bufferRequest(t, strings.Repeat("x", 5000), tc.chunked, 4096, tc.memLimit)
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) || mbe.Limit != 4096 {
			t.Errorf("%s: a body over max_body gave %v, want *http.MaxBytesError with limit 4096", tc.name, err)
		}
	}
	// exactly max_body is accepted
	r, _, err := bufferRequest(t, strings.Repeat("x", 4096), true, 4096, 1024)
	if err != nil {
		t.Fatal(err)
	}
	wantBody(t, r, strings.Repeat("x", 4096))
}

func TestFileBodyCloseTwice(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "body")
	if err != nil {
		t.Fatal(err)
	}
	b := &fileBody{f: f}
	if _, err := f.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	b.Close()
	b.Close()
	if _, err := os.Stat(f.Name()); !os.IsNotExist(err) {
		t.Errorf("a body file that could not be unlinked early is not removed on Close: %v", err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(b); err == nil {
		t.Error("reading a closed body succeeded")
	}
}

// TestBodyBufferLargeBodyNotInMemory: a body declared larger than
// request_buffer goes to the temporary file from its first byte; one that
// turns out larger (chunked) never grows a buffer past request_buffer.
// Before, each held request_buffer bytes and more (a bytes.Buffer doubled
// past it) for as long as the upload trickled in: 500 slow uploads of 10 MiB
// held 1.5 GiB in Caddy (bench/run.sh §10b).
func TestBodyBufferLargeBodyNotInMemory(t *testing.T) {
	const memLimit, size = 4 << 20, 16 << 20
	body := strings.Repeat("x", size)
	for _, tc := range []struct {
		chunked bool
		most    uint64
	}{
		{false, 1 << 20},           // a copy buffer, not the 4 MiB
		{true, 2*memLimit + 1<<20}, // the head as it grows to 4 MiB (in all 8 MiB), once
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r, closer, err := bufferRequest(t, body, tc.chunked, 32<<20, memLimit)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := closer.(*fileBody); !ok {
			t.Fatalf("chunked=%v: kept in %T, want a temporary file", tc.chunked, closer)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > tc.most {
			t.Errorf("chunked=%v: buffering a %d MiB body allocated %d KiB; want at most %d KiB (request_buffer %d MiB)",
				tc.chunked, size>>20, got>>10, tc.most>>10, memLimit>>20)
		}
		wantBody(t, r, body)
	}
}
