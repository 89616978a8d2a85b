package caddydjango

import (
	"io"
	"os"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// sendfileWriter lets file bodies go out with sendfile(2) again. Caddy
// 2.11 wraps every response in caddyhttp.IdleTimeoutWriter (on by default:
// write_idle_timeout), whose ReadFrom hands net/http an io.LimitedReader of
// the io.LimitedReader that http.ServeContent passes; the net package's
// sendfile unwraps only one, so every byte of every file was copied through
// user space with a fresh 32 KiB buffer. When the copy runs to the end of a
// regular file, the *os.File itself goes down instead: the idle-timeout
// wrapper limits it to its chunk and sendfile applies. net/http closes the
// connection rather than reuse it should the file have grown meanwhile
// (more written than the Content-Length).
type sendfileWriter struct {
	caddyhttp.ResponseWriterWrapper
}

// ReadFrom implements io.ReaderFrom.
func (w *sendfileWriter) ReadFrom(r io.Reader) (int64, error) {
	// up to 512 bytes net/http copies itself, with the header (sniffLen)
	if lr, ok := r.(*io.LimitedReader); ok && lr.N > 512 {
		if f, ok := lr.R.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				if off, err := f.Seek(0, io.SeekCurrent); err == nil && fi.Size()-off == lr.N {
					n, err := w.ResponseWriterWrapper.ReadFrom(f)
					lr.N -= n
					return n, err
				}
			}
		}
	}
	return w.ResponseWriterWrapper.ReadFrom(r)
}

// Interface guards
var _ io.ReaderFrom = (*sendfileWriter)(nil)
