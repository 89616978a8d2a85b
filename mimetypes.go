package caddydjango

import (
	"mime"
	"net/http"
	"path"
	"strings"
)

// Content types of the files django_files serves (static, media and
// protected), the same on every host. Go's mime package, which Caddy's
// file_server uses, reads the host's tables: on Debian /usr/share/mime/globs2
// has no .webmanifest or .map and hides /etc/mime.types; a slim image has
// neither file and .woff2 has no type at all. WhiteNoise ships a fixed table
// for the same reason; the types below follow it (nginx's) with the IANA
// names for fonts, and Go's `; charset=utf-8` on text types.
//
// The table is used per response, not registered with mime.AddExtensionType:
// that would change every other site and module of the same Caddy.
var contentTypes = map[string]string{
	// documents and data
	".html":        "text/html; charset=utf-8",
	".htm":         "text/html; charset=utf-8",
	".txt":         "text/plain; charset=utf-8",
	".csv":         "text/csv; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
	".xml":         "text/xml; charset=utf-8",
	".xhtml":       "application/xhtml+xml",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".pdf":         "application/pdf",
	".zip":         "application/zip",
	// code
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".wasm": "application/wasm",
	// images
	".svg":  "image/svg+xml",
	".ico":  "image/x-icon",
	".png":  "image/png",
	".apng": "image/apng",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".gif":  "image/gif",
	".webp": "image/webp",
	".avif": "image/avif",
	".bmp":  "image/bmp",
	// fonts
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".ttf":   "font/ttf",
	".otf":   "font/otf",
	".eot":   "application/vnd.ms-fontobject",
	// audio and video
	".mp4":  "video/mp4",
	".m4v":  "video/mp4",
	".webm": "video/webm",
	".ogv":  "video/ogg",
	".mov":  "video/quicktime",
	".mp3":  "audio/mpeg",
	".ogg":  "audio/ogg",
	".oga":  "audio/ogg",
	".opus": "audio/ogg",
	".wav":  "audio/wav",
	".flac": "audio/flac",
	".m4a":  "audio/mp4",
	".aac":  "audio/aac",
	".weba": "audio/webm",
}

// contentType is the Content-Type for a file name: the table above, else the
// host's (mime.TypeByExtension), else application/octet-stream.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// setContentType sets the Content-Type for name before a file_server runs
// (it keeps a type already set) unless one is set already (a `header`
// directive, Django's response to an X-Accel-Redirect). It reports whether it
// set one, for the caller to remove should no file be served.
func setContentType(hdr http.Header, name string) bool {
	if hdr.Get("Content-Type") != "" {
		return false
	}
	hdr["Content-Type"] = []string{contentType(name)}
	return true
}
