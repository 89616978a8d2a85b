package caddydjango

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// TestWatchAppCommand: a watched app server loads the wrapper in place of
// its application (the last argument), from a private directory first on
// PYTHONPATH, the application in CADDY_DJANGO_WATCH_APP; Gunicorn preloads
// it unless its workers patch the standard library; the directory goes
// with the process. A factory call is not wrapped.
func TestWatchAppCommand(t *testing.T) {
	for _, c := range []struct {
		server string
		argv   []string
		want   []string
	}{
		{"", []string{"gunicorn", "--bind", "fd://3", "a.wsgi"}, []string{"gunicorn", "--bind", "fd://3", "--preload", "caddy_django_watch:application"}},
		{"", []string{"gunicorn", "-k", "gevent", "a.wsgi"}, []string{"gunicorn", "-k", "gevent", "caddy_django_watch:application"}},
		{"uwsgi", []string{"uwsgi", "--module", "a.wsgi"}, []string{"uwsgi", "--module", "caddy_django_watch:application"}},
	} {
		p := newProcess(&spec{Name: "web", Server: c.server, WatchApp: "a.wsgi"}, zap.NewNop())
		argv, env, err := watchAppCommand(p, c.argv, []string{"PYTHONPATH=/opt/lib", "A=b"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(argv, c.want) {
			t.Errorf("argv %q, want %q", argv, c.want)
		}
		dir := p.watchApp.dir
		if !slices.Contains(env, "PYTHONPATH="+dir+string(os.PathListSeparator)+"/opt/lib") || !slices.Contains(env, "CADDY_DJANGO_WATCH_APP=a.wsgi") || !slices.Contains(env, "A=b") {
			t.Errorf("env %q", env)
		}
		if src := string(mustRead(t, filepath.Join(dir, "caddy_django_watch.py"))); !strings.Contains(src, "get_resolver().url_patterns") {
			t.Errorf("wrapper module: %q", src)
		}
		closeWatchApp(p)
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", dir, err)
		}
	}
	if _, _, err := watchAppCommand(newProcess(&spec{Name: "web", WatchApp: "a.wsgi"}, zap.NewNop()), []string{"gunicorn", "b.wsgi"}, nil); err == nil {
		t.Error("an application that is not the last argument: no error")
	}
	for app, want := range map[string]string{"a.wsgi:application": "a.wsgi:application", "a.wsgi": "a.wsgi", "a.app:create_app()": ""} {
		if got := watchedApp(app); got != want {
			t.Errorf("watchedApp(%q) = %q, want %q", app, got, want)
		}
	}
}
