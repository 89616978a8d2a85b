package watch

import (
	"errors"
	"io/fs"
	"os"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
)

// The fsnotify backend: every directory of the tree that is not excluded is
// registered (inotify watches one directory, not a tree); a directory
// created later is registered when its creation is seen, and the files it
// already holds by then count as changed.

// changeOps are the events that count: a file written, created, removed,
// renamed, or its attributes changed (`touch` on an existing file).
const changeOps = fsnotify.Write | fsnotify.Create | fsnotify.Remove | fsnotify.Rename | fsnotify.Chmod

// newNotifier makes the fsnotify watcher (a variable for the test of the
// fallback: no inotify instance left cannot be caused here safely).
var newNotifier = fsnotify.NewWatcher

// startNotify registers the tree with a new fsnotify watcher and starts
// reading its events.
func (w *Watcher) startNotify() error {
	fsw, err := newNotifier()
	if err != nil {
		return err
	}
	if err := w.register(fsw, w.root, false); err != nil {
		fsw.Close()
		return err
	}
	w.closers = append(w.closers, fsw.Close)
	w.wg.Add(1)
	go w.notifyLoop(fsw)
	return nil
}

// register adds dir and the directories below it to fsw. With report, the
// matching files found count as changed (they were created before the
// directory was registered).
func (w *Watcher) register(fsw *fsnotify.Watcher, dir string, report bool) error {
	var fileFn func(string, string, fs.DirEntry)
	if report {
		fileFn = func(_, rel string, _ fs.DirEntry) { w.emit(rel) }
	}
	return w.walk(dir, func(path string) error {
		if err := fsw.Add(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}, fileFn)
}

func (w *Watcher) notifyLoop(fsw *fsnotify.Watcher) {
	defer w.wg.Done()
	for {
		select {
		case ev, ok := <-fsw.Events:
			if !ok {
				return
			}
			w.notifyEvent(fsw, ev)
		case err, ok := <-fsw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn("the kernel dropped file events (queue overflow): any file may have changed")
				w.emit(Overflow)
				continue
			}
			w.log.Warn("watching files", zap.Error(err))
		case <-w.done:
			return
		}
	}
}

// notifyEvent handles one event: a new directory is registered, a change
// of a matching file is passed on.
func (w *Watcher) notifyEvent(fsw *fsnotify.Watcher, ev fsnotify.Event) {
	rel := w.rel(ev.Name)
	if rel == "" || !ev.Op.Has(changeOps) || w.skipped(ev.Name, rel) {
		return
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			if err := w.register(fsw, ev.Name, true); err != nil {
				w.log.Warn("cannot watch a new directory; changes in it are missed", zap.String("dir", ev.Name), zap.Error(err))
			}
			return
		}
	}
	if w.included(rel) {
		w.emit(rel)
	}
}
