package caddydjango

import (
	"slices"
	"strings"
	"testing"
)

// uvicorn runs through uvicorn_sockets.py with its launcher's Python and
// the same arguments; a launcher whose Python cannot be told is an error
// that says what to set.
func TestUvicornCommand(t *testing.T) {
	args := []string{"--fd", "3", "--workers", "2", "config.asgi:application"}
	for _, c := range []struct {
		launcher, python []string
	}{
		{[]string{"/usr/bin/python3", "-m", "uvicorn"}, []string{"/usr/bin/python3"}},
		{[]string{"uv", "run", "uvicorn"}, []string{"uv", "run", "python"}},
	} {
		got, err := uvicornCommand(slices.Concat(c.launcher, args), c.launcher, nil)
		want := slices.Concat(c.python, []string{"-c", uvicornSockets}, args)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("uvicornCommand(%q) = %q, %v; want %q", c.launcher, got, err, want)
		}
	}
	_, err := uvicornCommand(slices.Concat([]string{"/bin/sh", "-c", "uvicorn"}, args), []string{"/bin/sh", "-c", "uvicorn"}, nil)
	if err == nil || !strings.Contains(err.Error(), "set command to `python3 -m uvicorn`") {
		t.Errorf("a launcher without a Python: %v", err)
	}

	s, err := (&AppServerConfig{Server: "uvicorn", App: "a:b"}).spec(&App{Root: "/srv"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.command(); got[0] != "/usr/bin/python3" || got[1] != "-c" || !slices.Equal(got[3:], s.Argv[3:]) {
		t.Errorf("uvicorn's command line %q for %q", got, s.Argv)
	}
}
