package caddydjango

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// manifestCache holds the immutable names from STATIC_ROOT/staticfiles.json,
// re-checked (one stat) at most once per second.
type manifestCache struct {
	path      string
	nextCheck atomic.Int64
	cur       atomic.Pointer[manifestState]
	mu        sync.Mutex
}

// manifestState is one reading of the manifest (noManifest: none).
type manifestState struct {
	present bool
	modTime time.Time
	size    int64
	hashed  map[string]struct{} // the manifest's values: css/app.554a67f51a76.css
	// its keys, the names Django hashes (css/app.css): an earlier
	// collectstatic's hashed version of one of them, still on disk after a
	// deploy, is as immutable as the current one
	originals map[string]struct{}
}

var noManifest = &manifestState{}

// get returns the current manifest state and whether it changed with this
// call (a newly read manifest).
func (m *manifestCache) get(now int64) (*manifestState, bool) {
	st := m.cur.Load()
	if st != nil && now < m.nextCheck.Load() {
		return st, false
	}
	if st != nil && !m.mu.TryLock() {
		return st, false // another request is checking
	}
	if st == nil {
		m.mu.Lock()
		if st = m.cur.Load(); st != nil {
			m.mu.Unlock()
			return st, false
		}
	}
	defer m.mu.Unlock()
	m.nextCheck.Store(now + int64(time.Second))
	old := st
	st = m.refresh(old)
	if st != old {
		m.cur.Store(st)
		return st, old != nil
	}
	return st, false
}

// refresh reads the manifest again if its size or mtime changed; old is
// kept while the file is unreadable or half-written.
func (m *manifestCache) refresh(old *manifestState) *manifestState {
	fi, err := os.Stat(m.path)
	if err != nil {
		if old != nil && !old.present {
			return old
		}
		return noManifest
	}
	if old != nil && old.present && fi.ModTime().Equal(old.modTime) && fi.Size() == old.size {
		return old
	}
	data, err := os.ReadFile(m.path)
	if err != nil {
		if old != nil {
			return old
		}
		return noManifest
	}
	st, err := parseManifest(data)
	if err != nil {
		// probably being written by collectstatic: keep what we have and
		// look again next time
		m.nextCheck.Store(0)
		if old != nil {
			return old
		}
		return noManifest
	}
	st.modTime, st.size = fi.ModTime(), fi.Size()
	return st
}

// parseManifest reads a ManifestStaticFilesStorage manifest: the hashed
// names (the values of "paths") and the names they were hashed from (its
// keys).
func parseManifest(data []byte) (*manifestState, error) {
	var m struct {
		Paths map[string]string `json:"paths"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.Paths == nil {
		return nil, errors.New(`manifest has no "paths"`)
	}
	st := &manifestState{
		present:   true,
		hashed:    make(map[string]struct{}, len(m.Paths)),
		originals: make(map[string]struct{}, len(m.Paths)),
	}
	for k, v := range m.Paths {
		st.hashed[strings.TrimPrefix(v, "/")] = struct{}{}
		st.originals[strings.TrimPrefix(k, "/")] = struct{}{}
	}
	return st, nil
}

// isImmutable reports whether the static file rel is a hashed name: one in
// the manifest, or an earlier collectstatic's hash of a name the manifest
// has (css/app.111111111111.css when it maps css/app.css); without a
// manifest, any name with a hash segment.
func (st *manifestState) isImmutable(rel string) bool {
	if !st.present {
		return hasHashInName(rel)
	}
	if _, ok := st.hashed[rel]; ok {
		return true
	}
	if !hasHashInName(rel) {
		return false
	}
	dot := strings.LastIndexByte(rel, '.')
	_, ok := st.originals[rel[:dot-13]+rel[dot:]]
	return ok
}

// hasHashInName reports whether the file name has Django's hash segment: a
// `.`, 12 lowercase hex digits and a `.` before the extension
// (app.554a67f51a76.css).
func hasHashInName(p string) bool {
	name := p[strings.LastIndexByte(p, '/')+1:]
	dot := strings.LastIndexByte(name, '.')
	if dot < 14 || dot == len(name)-1 {
		return false
	}
	if name[dot-13] != '.' {
		return false
	}
	for i := dot - 12; i < dot; i++ {
		c := name[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
