package caddydjango

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `enabled`: entries (processes, schedules, gunicorn) switched off in the Caddyfile, directly or from the
// environment with `{$VAR:default}`, are listed as DISABLED and never run;
// a disabled gunicorn leaves django_files answering 503.

func TestEnabledSelectsProcessesFromTheEnvironment(t *testing.T) {
	t.Parallel()
	requireDjango(t)
	d := newDjangoProject(t)
	marks := t.TempDir()
	d.Env = append(d.Env, "CDT_CELERY_ENABLED=false", "CDT_BEAT_ENABLED=true")
	touch := func(name string) string {
		return `/bin/sh -c "touch ` + filepath.Join(marks, name) + `; exec sleep 600"`
	}
	extra := `
		process celery ` + touch("celery") + ` {
			enabled {$CDT_CELERY_ENABLED:true}
		}
		process beat ` + touch("beat") + ` {
			enabled {$CDT_BEAT_ENABLED:false}
			startsecs 0
		}
		process off ` + touch("off") + ` {
			enabled false
		}
		process unset ` + touch("unset") + ` {
			enabled {$CDT_SURELY_UNSET_VARIABLE:off}
		}
		schedule cron "@every 1s" /bin/sh -c "touch ` + filepath.Join(marks, "cron") + `" {
			enabled {$CDT_CELERY_ENABLED:true}
		}`
	s := launchDjangoSite(t, d, func(s *djangoSite, admin string) string {
		return s.config(admin, 1, "enabled false", extra, "")
	})
	s.waitState("beat", StateRunning, 30*time.Second)
	sts := s.statuses()
	for _, name := range []string{gunicornName, "celery", "off", "unset", "cron"} {
		if st := sts[name]; st.State != StateDisabled || st.PID != 0 {
			t.Errorf("%s: %+v, want DISABLED without a pid", name, st)
		}
	}
	// a disabled gunicorn: proxied requests get the 503 "unavailable" answer
	resp, err := http.Post(s.url("/"), "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("POST / with gunicorn disabled: %d, want 503", resp.StatusCode)
	}
	// starting a disabled entry is refused (409), it stays DISABLED
	if code, body := s.post("/django/processes/celery/start"); code != http.StatusConflict {
		t.Errorf("start of a disabled process: %d %s, want 409", code, body)
	}
	waitFor(t, 20*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(marks, "beat"))
		return err == nil
	}, "beat (enabled from the environment) to run")
	for _, name := range []string{"celery", "off", "unset", "cron"} {
		if _, err := os.Stat(filepath.Join(marks, name)); err == nil {
			t.Errorf("%s is disabled but ran", name)
		}
	}
	if st := s.statuses()["celery"]; st.State != StateDisabled {
		t.Errorf("celery after start: %+v", st)
	}
}
