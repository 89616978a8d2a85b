package caddydjango

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// App servers: the Python HTTP servers Caddy supervises with a held
// listening socket (socket.go), readiness (readiness.go) and zero-downtime
// replacement. Each kind says how its command line is built: how it is
// given the inherited socket (fd 3), whether it can serve a second private
// socket (fd 4) for a readiness probe only this generation answers, its
// workers flag and its stop behaviour.

// serverKind is what differs between app servers.
type serverKind struct {
	// word is the Caddyfile word, the JSON `server` value and the default
	// name of the entry.
	word string
	// command is the default launcher.
	command []string
	// sockets are the arguments that hand the server the held socket (fd 3)
	// and, when probeFD, the generation's own socket (fd 4).
	sockets func(bind bindAddr) []string
	// probeFD: the server also serves fd 4, where readiness is probed.
	probeFD bool
	// ownFD: the server also serves fd 4, its generation's own socket,
	// which django_files dials (appserver_switch.go); implied by probeFD.
	ownFD bool
	// run, when set, turns the command line (launcher first) into the one
	// that runs it (uvicorn: through uvicorn_sockets.py).
	run func(argv, launcher, env []string) ([]string, error)
	// tcpOnly: the server adopts inherited TCP sockets only, so its bind
	// must be HOST:PORT and the generation's own socket is loopback TCP,
	// not a unix socket (see listenGeneration).
	tcpOnly bool
	// upstreamKeepAlive is django_files' upstream_keepalive by default:
	// one process (daphne) spends on a new connection per request what a
	// kept one saves, and nothing blocks on an idle one.
	upstreamKeepAlive time.Duration
	// readyLine, for a server that serves one socket only, is the output
	// line (a substring) that says this generation has loaded the app.
	readyLine string
	// probe is the readiness probe's request on fd 4, when not the default
	// (see probeRequest).
	probe []byte
	// workers is the flag that sets the number of worker processes; empty
	// for a single-process server.
	workers string
	// stopSignal is the signal the server treats as a graceful stop.
	stopSignal string
	// stopMaster: the stop signal goes to the master alone, which stops
	// its workers gracefully; its workers die at once on that signal
	// (hypercorn's, uWSGI's), so the group does not get it.
	stopMaster bool
	// orphansServe: the workers serve on after their master is killed
	// (nothing tells them) and their graceful stop closes the connections
	// they accepted and have not read, so they are kept serving until a
	// new master does (spec.orphansServe, keepOrphans).
	orphansServe bool
	// stopTimeout is longer than the server's own graceful timeout.
	stopTimeout time.Duration
	// workerStop is the signal that stops one worker gracefully (it
	// finishes what it is answering) and makes its master start another;
	// empty when a worker cannot be replaced alone (its master does not
	// start another: uvicorn's and hypercorn's --workers; one process:
	// daphne), so that a whole new generation replaces it (recycle.go).
	workerStop string
	// dumpSignal makes a Python process with faulthandler enabled
	// (PYTHONFAULTHANDLER) write every thread's stack and end: ABRT, unless
	// the server handles ABRT itself.
	dumpSignal string
	// bindFlags are arguments that choose a socket: not allowed in args.
	bindFlags []string
	// extra are arguments always added (e.g. uWSGI's --master).
	extra []string
	// appFlag, when set, is the flag that names the application (uWSGI's
	// --module); otherwise it is the last argument.
	appFlag string
}

// serverKinds are the supported app servers, by word.
var serverKinds = map[string]*serverKind{
	"gunicorn": {
		word:    "gunicorn",
		command: []string{"gunicorn"},
		sockets: func(bindAddr) []string { return []string{"--bind", "fd://3", "--bind", "fd://4"} },
		probeFD: true,
		workers: "--workers",
		// TERM: graceful, Gunicorn's graceful_timeout is 30s
		stopSignal:  "TERM",
		stopTimeout: gunicornStopWait,
		bindFlags:   []string{"-b", "--bind"},
		// TERM to a worker: it finishes its requests (sync, gthread,
		// gevent) and exits, and the master starts another (but see
		// spec.recyclesWorkers for UvicornWorker)
		workerStop: "TERM",
		// a worker's ABRT is Gunicorn's own (worker_abort hook, then a
		// quiet exit); no worker class handles SEGV
		dumpSignal: "SEGV",
	},
	"uvicorn": {
		word: "uvicorn",
		// Debian ships no uvicorn script
		command: []string{"/usr/bin/python3", "-m", "uvicorn"},
		// run through uvicorn_sockets.py, which serves fd 4 as well
		// (appserver_uvicorn.go)
		sockets: func(bindAddr) []string { return []string{"--fd", "3"} },
		run:     uvicornCommand,
		probeFD: true,
		probe:   unknownUpgrade,
		workers: "--workers",
		// TERM and INT: graceful (stop accepting, finish requests); uvicorn
		// 0.17 has no graceful timeout of its own
		stopSignal:   "TERM",
		orphansServe: true,
		stopTimeout:  30 * time.Second,
		bindFlags:    []string{"--fd", "--host", "--port", "--uds"},
	},
	"hypercorn": {
		word:    "hypercorn",
		command: []string{"hypercorn"},
		sockets: func(bindAddr) []string { return []string{"--bind", "fd://3", "--bind", "fd://4"} },
		probeFD: true,
		workers: "--workers",
		// TERM and INT to the master: graceful (it tells its workers,
		// which finish within graceful_timeout, 3s); a worker dies at once
		// on TERM (default action) and ignores INT
		stopSignal:  "TERM",
		stopMaster:  true,
		stopTimeout: 10 * time.Second,
		bindFlags:   []string{"-b", "--bind", "--insecure-bind", "--quic-bind"},
	},
	"uwsgi": {
		word: "uwsgi",
		// Debian's uwsgi loads the Python plugin on request
		command: []string{"uwsgi", "--plugin", "python3"},
		// uWSGI speaking HTTP on the inherited socket
		sockets: func(bindAddr) []string { return []string{"--http-socket", "fd://3", "--http-socket", "fd://4"} },
		ownFD:   true,
		// a one-word or invalid request line reaches Django through
		// uWSGI: readiness is its worker spawn line (the app is loaded in
		// the master before it forks, and --need-app exits if it fails)
		readyLine: "spawned uWSGI worker 1 ",
		workers:   "--workers",
		// TERM is a brutal reload in uWSGI 2.0: the hook makes it a
		// graceful shutdown of the master (workers finish their requests,
		// mercy 60s); a worker ends at once on TERM
		stopSignal:  "TERM",
		stopMaster:  true,
		stopTimeout: 65 * time.Second,
		bindFlags:   []string{"--http-socket", "--socket", "-s", "--http", "--uwsgi-socket", "--shared-socket", "--http11-socket"},
		extra:       []string{"--master", "--need-app", "--hook-master-start", "unix_signal:15 gracefully_kill_them_all"},
		appFlag:     "--module",
		// HUP to a worker: it finishes its request and exits; the master
		// starts another (what uWSGI\'s graceful reload does per worker)
		workerStop: "HUP",
	},
	"daphne": {
		word:    "daphne",
		command: []string{"daphne"},
		// twisted endpoints: fd 3 through --fd, the generation's socket
		// as an endpoint of its own
		sockets: func(bindAddr) []string { return []string{"--fd", "3", "-e", "fd:fileno=4"} },
		// Twisted's fd endpoint adopts TCP sockets only (its domain
		// option stays a string, which adoptStreamPort refuses)
		tcpOnly: true,
		// Twisted keeps an idle connection 12 hours
		upstreamKeepAlive: 10 * time.Second,
		probeFD:           true,
		// twisted passes any three-word request line to Django; a one-word
		// line it answers 400 itself
		probe: singleWordLine,
		// one process: no workers flag
		// TERM (and INT): twisted stops listening and daphne cancels its
		// application instances, answers in progress too: it has no
		// graceful stop (django_files waits for its answers first)
		stopSignal:  "TERM",
		stopTimeout: 15 * time.Second,
		bindFlags:   []string{"-b", "--bind", "-p", "--port", "-u", "--unix-socket", "--fd", "-e", "--endpoint"},
	},
}

// unixBindError is the error for a unix bind of a tcpOnly server.
func (k *serverKind) unixBindError(bind string) error {
	return fmt.Errorf("bind %q: %s takes a HOST:PORT bind only (Twisted's fd endpoint adopts TCP sockets)", bind, k.word)
}

// serverWords lists the supported app servers for error messages.
func serverWords() string {
	var words []string
	for w := range serverKinds {
		words = append(words, w)
	}
	slices.Sort(words)
	return strings.Join(words, ", ")
}

// kindOf returns the kind for word (default gunicorn).
func kindOf(word string) (*serverKind, error) {
	if word == "" {
		word = gunicornName
	}
	k, ok := serverKinds[word]
	if !ok {
		return nil, fmt.Errorf("server %q: want one of %s", word, serverWords())
	}
	return k, nil
}

// argv builds the command line: launcher, sockets, workers (0: the
// server's default), args, app.
func (k *serverKind) argv(c *AppServerConfig, workers int, bind bindAddr) ([]string, error) {
	for _, arg := range c.Args {
		if k.bindsSocket(arg) {
			return nil, fmt.Errorf("args must not contain %s: set `bind` instead (Caddy holds the socket)", arg)
		}
	}
	command := c.Command
	if len(command) == 0 {
		command = k.command
	}
	argv := slices.Clone(command)
	argv = append(argv, k.sockets(bind)...)
	if workers > 0 && k.workers == "" {
		return nil, fmt.Errorf("workers is not supported for %s (one process); run several app servers", k.word)
	}
	if workers > 0 {
		argv = append(argv, k.workers, strconv.Itoa(workers))
	}
	argv = append(argv, k.extra...)
	argv = append(argv, c.Args...)
	if k.appFlag != "" {
		return append(argv, k.appFlag, c.App), nil
	}
	return append(argv, c.App), nil
}

// replicasUnsupported says why an app server has no replicas, and what to
// use instead.
func replicasUnsupported(word string) string {
	if k := serverKinds[word]; k != nil && k.workers == "" {
		return fmt.Sprintf("replicas is not supported for %s; run several %s entries (each with its own name and bind)", word, word)
	}
	return fmt.Sprintf("replicas is not supported for %s; use workers", word)
}

// bindsSocket reports whether arg chooses a socket (`--bind x`,
// `--bind=x`, `-bx`).
func (k *serverKind) bindsSocket(arg string) bool {
	for _, f := range k.bindFlags {
		if arg == f || strings.HasPrefix(arg, f+"=") || (len(f) == 2 && strings.HasPrefix(arg, f)) {
			return true
		}
	}
	return false
}

// serverWord is an app server's kind: its word (gunicorn, uvicorn, …).
func (s *spec) serverWord() string { return cmp.Or(s.Server, gunicornName) }

// recyclesWorkers reports whether one worker of app server s can be
// replaced alone (serverKind.workerStop). Not under Gunicorn's
// UvicornWorker: its graceful stop, like uvicorn's, closes the connections
// it accepted and has not read yet, which on the socket its generation
// shares would fail requests; a new generation replaces it instead.
func (s *spec) recyclesWorkers() bool {
	k := serverKinds[s.serverWord()]
	return k != nil && k.workerStop != "" && !s.asgiWorkers()
}

// orphansServe reports whether the workers of app server s serve on after
// their master is killed, and are best left serving until a new master does
// (keepOrphans): hypercorn's, which its stop signal kills at once
// (StopMaster), and uvicorn's (--workers, --reload) and Gunicorn's
// UvicornWorker (serverKind.orphansServe): stopped at once, they lost the
// requests django_files had just sent them (a 502 for a POST). Gunicorn's
// own workers notice their parent changed and finish their request; uWSGI's
// end themselves.
func (s *spec) orphansServe() bool {
	k := serverKinds[s.serverWord()]
	return s.StopMaster || (k != nil && k.orphansServe) || s.asgiWorkers()
}

// asgiWorkers reports whether s runs Gunicorn with uvicorn's worker class.
func (s *spec) asgiWorkers() bool {
	return slices.ContainsFunc(s.Argv, func(arg string) bool { return strings.Contains(arg, "uvicorn.workers.") })
}

// dumpSignal is the signal that makes a worker of s with faulthandler
// enabled write its threads' stacks (serverKind.dumpSignal).
func (s *spec) dumpSignal() string {
	if k := serverKinds[s.serverWord()]; k != nil && k.dumpSignal != "" {
		return k.dumpSignal
	}
	return "ABRT"
}

// probeRequest is the readiness probe's request for s: an upgrade to an
// unknown protocol for uvicorn's HTTP implementation (Gunicorn's
// UvicornWorker), an invalid request line otherwise (see readiness.go).
func (s *spec) probeRequest() []byte {
	if k := serverKinds[s.Server]; k != nil && k.probe != nil {
		return k.probe
	}
	if s.asgiWorkers() {
		return unknownUpgrade
	}
	return badRequestLine
}
