package caddydjango

import (
	"fmt"
	"path"
	"strings"
)

// Media dispositions (`disposition` in the media block).
const (
	dispositionAuto       = "auto"
	dispositionAttachment = "attachment"
)

// parseDisposition checks a media disposition and reports whether every
// file is sent as an attachment.
func parseDisposition(v string) (attachment bool, err error) {
	switch v {
	case "", dispositionAuto:
		return false, nil
	case dispositionAttachment:
		return true, nil
	}
	return false, fmt.Errorf("disposition %q: want attachment or auto", v)
}

// contentDisposition is the Content-Disposition of the upload at rel (the
// request path under the media prefix), or "" for inline.
func (m *mediaSite) contentDisposition(rel string) string {
	if m.attachment {
		return attachmentHeader(path.Base(rel))
	}
	if !isInlineMedia(rel) {
		return "attachment"
	}
	return ""
}

// attachmentHeader is `attachment; filename="<name>"` (RFC 6266) with an
// ASCII-only, quote-safe name, plus `filename*` (RFC 8187: UTF-8, percent-encoded)
// when the name had to be changed for that (non-ASCII, quotes,
// backslashes, percent signs, control characters).
func attachmentHeader(name string) string {
	if name == "" || name == "/" || name == "." {
		return "attachment"
	}
	var fallback strings.Builder
	for _, c := range name {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '%' {
			c = '_'
		}
		fallback.WriteRune(c)
	}
	h := `attachment; filename="` + fallback.String() + `"`
	if fallback.String() != name {
		h += "; filename*=UTF-8''" + encodeExtValue(name)
	}
	return h
}

// encodeExtValue percent-encodes s as an RFC 8187 ext-value's
// value-chars: every byte that is not an attr-char.
func encodeExtValue(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAttrChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// isAttrChar reports whether c is an RFC 8187 attr-char.
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
