package watch

import (
	"io/fs"
	"time"
)

// The polling backend: every PollInterval the tree is walked (excluded
// directories are not), and the matching files' sizes and modification
// times are compared with the previous scan's; a file that appeared,
// disappeared or differs has changed.

// stamp is what a scan notes of one file.
type stamp struct {
	size    int64
	modTime time.Time
}

// startPoll takes the first scan and starts polling.
func (w *Watcher) startPoll() {
	prev := w.scan()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(w.opts.PollInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-w.done:
				return
			}
			cur := w.scan()
			for _, rel := range diff(prev, cur) {
				w.emit(rel)
			}
			prev = cur
		}
	}()
}

// scan notes every matching file of the tree.
func (w *Watcher) scan() map[string]stamp {
	out := map[string]stamp{}
	_ = w.walk(w.root, nil, func(_, rel string, d fs.DirEntry) {
		if fi, err := d.Info(); err == nil {
			out[rel] = stamp{fi.Size(), fi.ModTime()}
		}
	})
	return out
}

// diff returns the files that appeared, disappeared or changed from prev
// to cur.
func diff(prev, cur map[string]stamp) []string {
	var out []string
	for rel, st := range cur {
		if old, ok := prev[rel]; !ok || old.size != st.size || !old.modTime.Equal(st.modTime) {
			out = append(out, rel)
		}
	}
	for rel := range prev {
		if _, ok := cur[rel]; !ok {
			out = append(out, rel)
		}
	}
	return out
}
