package caddydjango

import (
	"context"
	"errors"
	"testing"
)

// TestControlUnknownProcess: every control operation on a name that is
// neither a process nor a group is errNoSuchProcess (the admin API's 404).
func TestControlUnknownProcess(t *testing.T) {
	a := new(App)
	ops := map[string]func() error{
		"restart": func() error { return a.Restart(context.Background(), "nope") },
		"stop":    func() error { return a.StopProcess("nope") },
		"start":   func() error { return a.StartProcess("nope") },
		"signal":  func() error { return a.Signal("nope", "HUP") },
	}
	for op, fn := range ops {
		if err := fn(); !errors.Is(err, errNoSuchProcess) || err.Error() != "no such process: nope" {
			t.Errorf("%s: %v, want no such process: nope", op, err)
		}
	}
	if got := a.StatusesOf("nope"); got == nil || len(got) != 0 {
		t.Errorf("StatusesOf(unknown) = %#v, want an empty list (JSON [])", got)
	}
}
