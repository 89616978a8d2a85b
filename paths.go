package caddydjango

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

var errUnsafePath = errors.New("unsafe or hidden path")

// safeRequestPath reports whether rel (a decoded request path relative to a
// file root, without leading slash) is plain: no empty, `.` or `..`
// segments, no dotfiles, no backslashes or NULs, and rawPath (the escaped
// form, when it differs) has no encoded slash, backslash or NUL.
func safeRequestPath(rel, rawPath string) bool {
	if rawPath != "" && containsFoldAny(rawPath, "%2f", "%5c", "%00") {
		return false
	}
	return safeRelName(rel)
}

// safeRelName reports whether name is a clean slash-separated relative
// path with no hidden (dot) segments.
func safeRelName(name string) bool {
	if name == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) {
			c := name[i]
			if c == 0 || c == '\\' {
				return false
			}
			if c != '/' {
				continue
			}
		}
		seg := name[start:i]
		// empty segment (//, leading or trailing slash), ".", "..",
		// and dotfiles/dot-directories are refused
		if seg == "" {
			// a single trailing slash (directory URL) is allowed; the file
			// server answers 404 for directories
			if i == len(name) && i > 0 && start > 0 {
				return true
			}
			return false
		}
		if seg[0] == '.' {
			return false
		}
		start = i + 1
	}
	return true
}

// containsFoldAny reports whether s has one of the percent escapes subs
// (each `%XX`), in either case.
func containsFoldAny(s string, subs ...string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if s[i] != '%' {
			continue
		}
		for _, sub := range subs {
			if strings.EqualFold(s[i:i+3], sub) {
				return true
			}
		}
	}
	return false
}

// normalizePrefix checks a URL prefix and gives it a trailing slash.
func normalizePrefix(p, def string) (string, error) {
	if p == "" {
		return def, nil
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("URL prefix %q must start with /", p)
	}
	if p == "/" {
		return "", fmt.Errorf("URL prefix must not be / (everything else goes to Django)")
	}
	if strings.ContainsAny(p, "?#*{}\\") || strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") {
		return "", fmt.Errorf("URL prefix %q must be a plain path", p)
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
}

// within reports whether path lies in (or is) dir.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && filepath.IsLocal(rel)
}
