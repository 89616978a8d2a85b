package caddydjango

import (
	_ "embed"
	"fmt"
	"slices"
)

// uvicorn's command line serves one socket (--fd 3); a generation needs a
// second, its own (fd 4: see appserver_switch.go), so that django_files
// stops sending it requests before it is told to stop: uvicorn's graceful
// stop closes the connections it accepted and has not read yet, which on
// the shared socket alone lost a few requests per restart. Its Server and
// Multiprocess take a list of sockets (as under Gunicorn's UvicornWorker),
// so uvicorn runs through uvicorn_sockets.py, which hands them fd 4 as
// well and then runs uvicorn's own command line with the same arguments.

//go:embed uvicorn_sockets.py
var uvicornSockets string

// uvicornCommand is the command that runs argv, uvicorn's command line
// starting with launcher, serving fd 4 too: the launcher's Python (see
// pythonCommand) with uvicorn_sockets.py in place of the launcher.
func uvicornCommand(argv, launcher, env []string) ([]string, error) {
	python := pythonCommand(launcher, env)
	if python == nil {
		return nil, fmt.Errorf("cannot tell which Python runs %q (a Python interpreter, a script with a #! line, or uv/poetry/pipenv/pdm/hatch/rye run): set command to `python3 -m uvicorn` with the project's Python", launcher)
	}
	return slices.Concat(python, []string{"-c", uvicornSockets}, argv[len(launcher):]), nil
}

// command is the command line that runs s: its Argv, or what its kind's
// run makes of it (uvicorn: uvicornCommand).
func (s *spec) command() ([]string, error) {
	if k := serverKinds[s.Server]; k != nil && k.run != nil {
		return k.run(s.Argv, s.launcher, s.Env)
	}
	return s.Argv, nil
}
