package caddydjango

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// An app server with `watch` loads its application through watch_app.py,
// which imports the URLconf and its views as the application loads (Django
// imports them at a worker's first request): a worker that had not served
// anything yet when a broken file was saved would otherwise import it and
// answer 500 while the status says the previous code serves. Gunicorn
// loads it in its master, before it forks (--preload; not with gevent or
// eventlet workers, which must patch the standard library first), as uWSGI
// does by default: a worker started later (a second worker still booting
// when the file is saved, one replacing a crashed one) has the code of its
// generation, and cannot fail to boot, which would end the master and so
// the generation that serves. The module is written, per generation, into
// a private directory (makeGenDir: locked while the generation lives, swept
// when its Caddy is gone) put first on the generation's PYTHONPATH; the
// spec's command line (and the status) show the application as configured.

//go:embed watch_app.py
var watchAppScript string

const (
	watchAppModule = "caddy_django_watch"
	watchAppEnv    = "CADDY_DJANGO_WATCH_APP"
)

// watchedApp is the application an app server entry with `watch` loads
// through the wrapper, "" when it is not wrapped: a factory call
// (`module:create_app()`) is passed as written.
func watchedApp(app string) string {
	if strings.ContainsAny(app, "()") {
		return ""
	}
	return app
}

// watchAppDir is a generation's directory that holds the wrapper module.
type watchAppDir struct {
	dir  string
	lock *os.File
}

func (d *watchAppDir) close() {
	_ = os.RemoveAll(d.dir)
	_ = d.lock.Close()
}

// watchAppCommand returns argv and env for launching p (an app server whose
// spec has WatchApp): the application argument (the last one) replaced by
// the wrapper, whose directory (made on p's first launch) is put first on
// PYTHONPATH.
func watchAppCommand(p *process, argv, env []string) ([]string, []string, error) {
	if len(argv) == 0 || argv[len(argv)-1] != p.spec.WatchApp {
		return nil, nil, fmt.Errorf("watch: the application %q is not the last argument of %q", p.spec.WatchApp, argv)
	}
	p.mu.Lock()
	d := p.watchApp
	p.mu.Unlock()
	if d == nil {
		dir, lock, err := makeGenDir()
		if err != nil {
			return nil, nil, fmt.Errorf("watch: the application wrapper's directory: %v", err)
		}
		d = &watchAppDir{dir: dir, lock: lock}
		err = os.WriteFile(filepath.Join(dir, watchAppModule+".py"), []byte(watchAppScript), 0o644)
		if err == nil {
			err = chownTo(dir, p.spec.User)
		}
		if err != nil {
			d.close()
			return nil, nil, fmt.Errorf("watch: the application wrapper: %v", err)
		}
		p.mu.Lock()
		p.watchApp = d
		p.mu.Unlock()
	}
	argv = slices.Clone(argv)
	argv[len(argv)-1] = watchAppModule + ":application"
	if p.spec.serverWord() == gunicornName && !slices.ContainsFunc(argv, patchingWorker) {
		argv = slices.Insert(argv, len(argv)-1, "--preload")
	}
	path := d.dir
	if old := envValue(env, "PYTHONPATH"); old != "" {
		path += string(os.PathListSeparator) + old
	}
	env = setEnv(setEnv(slices.Clone(env), "PYTHONPATH", path), watchAppEnv, p.spec.WatchApp)
	return argv, env, nil
}

// patchingWorker reports whether a Gunicorn argument names a worker class
// that monkey-patches the standard library as it starts (gevent, eventlet):
// the application must not be loaded before, in the master.
func patchingWorker(arg string) bool {
	return strings.Contains(arg, "gevent") || strings.Contains(arg, "eventlet")
}

// closeWatchApp removes p's wrapper directory once p is done.
func closeWatchApp(p *process) {
	p.mu.Lock()
	d := p.watchApp
	p.watchApp = nil
	p.mu.Unlock()
	if d != nil {
		d.close()
	}
}
