package caddydjango

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Unit tests of schedule specs (robfig/cron's standard parser) and of the
// `schedule` Caddyfile syntax.

func TestParseScheduleNextRuns(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	from := time.Date(2026, 12, 1, 4, 30, 15, 0, time.UTC) // a Tuesday
	for _, tc := range []struct {
		spec string
		want time.Time
	}{
		{"0 3 * * *", time.Date(2026, 12, 2, 3, 0, 0, 0, time.Local)}, // local time zone
		{"TZ=UTC 0 3 * * *", time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)},
		{"TZ=UTC */15 * * * *", time.Date(2026, 12, 1, 4, 45, 0, 0, time.UTC)},
		{"CRON_TZ=Europe/Paris 0 6 * * *", time.Date(2026, 12, 1, 6, 0, 0, 0, paris)}, // 05:00 UTC
		{"TZ=Europe/Paris 0 5 * * *", time.Date(2026, 12, 2, 5, 0, 0, 0, paris)},      // 04:00 UTC: passed today
		{"TZ=UTC 0 9 * * MON", time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)},
		{"TZ=UTC @hourly", time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)},
		{"TZ=UTC @daily", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
		{"TZ=UTC @weekly", time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)},
		{"TZ=UTC @monthly", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"@every 15m", from.Add(15 * time.Minute)},
		{"@every 1s", from.Add(time.Second)},
	} {
		s, err := parseSchedule(tc.spec)
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		if got := s.Next(from.In(time.Local)); !got.Equal(tc.want) {
			t.Errorf("%q: next after %s is %s, want %s", tc.spec, from, got, tc.want)
		}
	}
	if now := time.Now(); time.Local.String() != "Local" {
		t.Logf("local zone %s at %s", time.Local, now)
	}
}

func TestParseScheduleRefusesBadSpecs(t *testing.T) {
	for _, spec := range []string{"", "0 3 * *", "0 3 * * * *", "61 * * * *", "@fortnightly", "@every soon", "TZ=Mars/Olympus 0 3 * * *", "0 25 * * *", "0 0 30 2 *"} {
		if _, err := parseSchedule(spec); err == nil {
			t.Errorf("%q was accepted", spec)
		}
	}
}

func TestCaddyfileSchedule(t *testing.T) {
	got, err := adaptDjango(t, `{
	django {
		schedule clearsessions "0 3 * * *" python manage.py clearsessions
		schedule report "@every 15m" python manage.py send_reports {
			timeout 10m
			env QUEUE reports
			dir src
			user app
			enabled {$CDT_SURELY_UNSET_VARIABLE:false}
			stop_signal INT
			stop_timeout 30s
		}
	}
}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got["schedules"])
	want := `[{"command":["python","manage.py","clearsessions"],"name":"clearsessions","spec":"0 3 * * *"},{"command":["python","manage.py","send_reports"],"dir":"src","enabled":false,"env":{"QUEUE":"reports"},"name":"report","spec":"@every 15m","stop_signal":"INT","stop_timeout":30000000000,"timeout":600000000000,"user":"app"}]`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestCaddyfileScheduleErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"bad cron spec", "{\n\tdjango {\n\t\tschedule x \"0 3 * *\" ./a\n\t}\n}", `Caddyfile:3 - Error during parsing: schedule "0 3 * *": expected exactly 5 fields`},
		{"unquoted spec", "{\n\tdjango {\n\t\tschedule x 0 3 * * * ./a\n\t}\n}", `Caddyfile:3 - Error during parsing: schedule "0": expected exactly 5 fields`},
		{"bad descriptor", "{\n\tdjango {\n\t\tschedule x @fortnightly ./a\n\t}\n}", `Caddyfile:3 - Error during parsing: schedule "@fortnightly"`},
		{"missing command", "{\n\tdjango {\n\t\tschedule x @daily\n\t}\n}", `Caddyfile:3 - Error during parsing: schedule needs a name, a cron spec and a command`},
		{"unknown option", "{\n\tdjango {\n\t\tschedule x @daily ./a {\n\t\t\tautorestart never\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: unknown schedule option "autorestart"`},
		{"name used by a process", "{\n\tdjango {\n\t\tprocess x ./a\n\t\tschedule x @daily ./a\n\t}\n}", `Caddyfile:4 - Error during parsing: schedule name "x" is already used`},
		{"bad timeout", "{\n\tdjango {\n\t\tschedule x @daily ./a {\n\t\t\ttimeout soon\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: timeout: "soon" is not a duration`},
		{"bad enabled", "{\n\tdjango {\n\t\tschedule x @daily ./a {\n\t\t\tenabled {env.CRON_ON}\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: enabled: "{env.CRON_ON}" is a placeholder, not replaced in a condition; write {$CRON_ON}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptDjango(t, tc.in)
			wantAdaptError(t, err, tc.want)
		})
	}
}

func TestStatusTableShowsScheduleRuns(t *testing.T) {
	next := time.Date(2026, 12, 2, 3, 0, 0, 0, time.Local)
	last := time.Date(2026, 12, 1, 3, 0, 0, 0, time.Local)
	var b strings.Builder
	err := formatStatusTable(&b, []ProcessStatus{
		{Name: "clearsessions", State: StateScheduled, Schedule: "0 3 * * *", NextRun: next, LastRun: last, LastDuration: "1.204s", LastExit: "exit status 0"},
		{Name: "never-ran", State: StateScheduled, Schedule: "@daily", NextRun: next},
		{Name: "celery", State: StateDisabled},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"clearsessions  SCHEDULED  -    -       0         0         next 2026-12-02 03:00:00; last 2026-12-01 03:00:00 (1.204s) exit status 0",
		"never-ran      SCHEDULED  -    -       0         0         next 2026-12-02 03:00:00\n",
		"celery         DISABLED   -    -       0         0         -",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table\n%s\nlacks %q", b.String(), want)
		}
	}
}
