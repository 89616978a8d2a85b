package caddydjango

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
)

// bufferBody reads the whole request body before Gunicorn is contacted (in
// memory up to RequestBuffer bytes, then into an unlinked temporary file)
// and replaces r.Body with it, with an exact Content-Length. It fails with
// *http.MaxBytesError past MaxBody (-1: no limit). With request_buffer off
// (RequestBuffer -1) the body is not read here: it streams to the app
// server as it arrives, still limited to MaxBody.
//
// A body declared larger than RequestBuffer goes to the file from its first
// byte, and one that turns out larger (chunked) leaves memory once it is
// written there: a slow upload holds a copy buffer, not RequestBuffer bytes,
// for as long as it trickles in (500 of them held 1.5 GiB before).
func (h *DjangoFiles) bufferBody(w http.ResponseWriter, r *http.Request) (io.Closer, error) {
	limited := h.MaxBody > 0
	if limited && r.ContentLength > h.MaxBody {
		return nil, &http.MaxBytesError{Limit: h.MaxBody}
	}
	src := r.Body
	if limited {
		src = http.MaxBytesReader(w, r.Body, h.MaxBody)
	}
	if h.RequestBuffer < 0 {
		r.Body = src
		return io.NopCloser(nil), nil
	}
	if r.ContentLength > h.RequestBuffer {
		return h.spool(r, nil, src)
	}
	var mem []byte
	if r.ContentLength > 0 {
		mem = make([]byte, r.ContentLength)
		if _, err := io.ReadFull(src, mem); err != nil {
			return nil, err
		}
	} else {
		var err error
		if mem, err = readUpTo(src, h.RequestBuffer); err != nil {
			return nil, err
		}
		if int64(len(mem)) == h.RequestBuffer {
			var one [1]byte
			if n, err := io.ReadFull(src, one[:]); n == 1 {
				return h.spool(r, mem, io.MultiReader(bytes.NewReader(one[:]), src))
			} else if err != io.EOF {
				return nil, err
			}
		}
	}
	body := &memBody{Reader: bytes.NewReader(mem)}
	setBody(r, body, int64(len(mem)))
	return body, nil
}

// readUpTo reads src until EOF or limit bytes, into a buffer that grows as
// data arrives and never past limit.
func readUpTo(src io.Reader, limit int64) ([]byte, error) {
	buf := make([]byte, 0, min(limit, 32<<10))
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// spool writes head and the rest of src to a temporary file in
// buffer_dir and makes it the request body.
func (h *DjangoFiles) spool(r *http.Request, head []byte, src io.Reader) (io.Closer, error) {
	f, err := os.CreateTemp(h.BufferDir, "caddy-django-body-*")
	if err != nil {
		return nil, err
	}
	body := &fileBody{f: f}
	// unlink at once where the OS allows it, so nothing is left behind
	if os.Remove(f.Name()) == nil {
		body.removed = true
	}
	if _, err := f.Write(head); err != nil {
		body.Close()
		return nil, err
	}
	size := int64(len(head)) // head is not used (held) while the rest trickles in
	n, err := io.Copy(f, src)
	if err != nil {
		body.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		body.Close()
		return nil, err
	}
	setBody(r, body, size+n)
	return body, nil
}

// setBody makes body (n bytes) the request body, with an exact
// Content-Length.
func setBody(r *http.Request, body io.ReadCloser, n int64) {
	r.Body = body
	r.ContentLength = n
	r.TransferEncoding = nil
	r.Header["Content-Length"] = []string{strconv.FormatInt(n, 10)}
	if n == 0 {
		r.Body = http.NoBody
	}
}

// memBody is a request body buffered in memory.
type memBody struct{ *bytes.Reader }

func (memBody) Close() error { return nil }

// fileBody is a request body spooled to a temporary file, removed on
// Close (at once, when the OS allows unlinking an open file).
type fileBody struct {
	f       *os.File
	once    sync.Once
	removed bool
}

func (b *fileBody) Read(p []byte) (int, error) { return b.f.Read(p) }

func (b *fileBody) Close() error {
	b.once.Do(func() {
		_ = b.f.Close()
		if !b.removed {
			_ = os.Remove(b.f.Name())
		}
	})
	return nil
}

// Interface guards
var (
	_ io.ReadCloser = memBody{}
	_ io.ReadCloser = (*fileBody)(nil)
)
