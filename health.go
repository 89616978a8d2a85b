package caddydjango

import "fmt"

// The health rule shared by `caddy django status --check`, the
// django_files `health` endpoint and the caddy_django_* metrics: a
// container is healthy when every app server serves and no process is
// failing.

// unhealthy returns the processes that break the health rule, in order.
// Without a name: every app server must be RUNNING, and no
// process may be FATAL or BACKOFF (a stopped or exited worker is not a
// failure: it was stopped through the API, or it is a one-shot program).
// With a name (a process or a group): each of its processes must be
// RUNNING; no process by that name is a failure too (reported as a
// status with an empty State). An entry disabled by `enabled false` is
// never a failure (a worker-only container disables Gunicorn), and a
// schedule is healthy while it waits for its next run (SCHEDULED).
func unhealthy(statuses []ProcessStatus, name string) []ProcessStatus {
	var bad []ProcessStatus
	found := false
	for _, s := range statuses {
		if s.State == StateDisabled {
			if s.Name == name || s.Group == name {
				found = true
			}
			continue
		}
		if name != "" {
			if s.Name != name && s.Group != name {
				continue
			}
			found = true
			if s.State != StateRunning && s.State != StateScheduled {
				bad = append(bad, s)
			}
			continue
		}
		switch {
		case isAppServer(s) && s.State != StateRunning,
			s.State == StateFatal, s.State == StateBackoff:
			bad = append(bad, s)
		}
	}
	if name != "" && !found {
		bad = append(bad, ProcessStatus{Name: name})
	}
	return bad
}

// healthOf applies the health rule (see unhealthy) and says what is wrong,
// one "NAME is STATE" per failing process. It names states only: why a
// process failed (its last error) may hold paths or secrets and is for
// `caddy django status`, not for a public health endpoint.
func healthOf(statuses []ProcessStatus, name string) (ok bool, problems []string) {
	for _, s := range unhealthy(statuses, name) {
		problems = append(problems, problemOf(s))
	}
	return len(problems) == 0, problems
}

// problemOf says in a few words why s breaks the health rule.
func problemOf(s ProcessStatus) string {
	switch {
	case s.State == "":
		return fmt.Sprintf("no process named %q", s.Name)
	case s.State == StateFatal || s.State == StateBackoff:
		return fmt.Sprintf("%s is %s", s.Name, s.State)
	}
	return fmt.Sprintf("%s is %s, not RUNNING", s.Name, s.State)
}

// isAppServer reports whether s is an app server that serves the site's
// requests.
func isAppServer(s ProcessStatus) bool { return s.Server != "" || s.Name == gunicornName }
