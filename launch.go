package caddydjango

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Launching one OS process of a supervised program: its command, the
// sockets a Gunicorn inherits, the watchdog, and pumping its output into
// the log.

// instance is one OS process of a supervised program.
type instance struct {
	cmd    *exec.Cmd
	pid    int
	exited chan struct{} // closed once the process is reaped
	begun  chan struct{} // closed once pid is set (or the start failed)
	status exitInfo
	// probeAddr is where an app server's readiness is probed (fd 4).
	probeAddr string
	// loaded is closed when the program prints its spec's ReadyLine.
	loaded     chan struct{}
	loadedOnce sync.Once
	logs       sync.WaitGroup // output readers
	out        outputSummary  // its meaningful error lines, for last_error
}

// drainOutput waits (at most d) until the program's output was logged
// whole: its pipes close once every process of its group is gone.
func (inst *instance) drainOutput(d time.Duration) {
	drained := make(chan struct{})
	go func() { inst.logs.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(d):
	}
}

type exitInfo struct {
	code   int    // -1 when killed by a signal
	signal string // set when killed by a signal
	err    error  // wait error
}

func (e exitInfo) String() string {
	switch {
	case e.signal != "":
		return "killed by SIG" + e.signal
	case e.err != nil && e.code < 0:
		return e.err.Error()
	default:
		return fmt.Sprintf("exit status %d", e.code)
	}
}

// launch starts the program from an OS thread that stays locked for the
// program's lifetime (Linux's parent-death signal is tied to that thread).
func (p *process) launch() (*instance, error) {
	inst := &instance{exited: make(chan struct{}), begun: make(chan struct{}), loaded: make(chan struct{})}
	argv, err := p.spec.command()
	if err != nil {
		return nil, err
	}
	env := p.spec.Env
	if p.spec.WatchApp != "" {
		if argv, env, err = watchAppCommand(p, argv, env); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = p.spec.Dir
	if err := configureCmd(cmd, p.spec.User); err != nil {
		return nil, err
	}

	var closeAfterStart []io.Closer
	defer func() {
		for _, c := range closeAfterStart {
			c.Close()
		}
	}()
	if p.spec.appServer() {
		sock, err := acquireSocket(p.spec.Bind)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %v", p.spec.Name, p.spec.serverWord(), err)
		}
		defer releaseSocket(p.spec.Bind)
		f, err := sock.file()
		if err != nil {
			return nil, err
		}
		closeAfterStart = append(closeAfterStart, f)
		cmd.ExtraFiles = []*os.File{f}
		if p.spec.OwnFD {
			pf, addr, err := ownSocket(p)
			if err != nil {
				return nil, err
			}
			closeAfterStart = append(closeAfterStart, pf)
			if p.spec.ProbeFD {
				inst.probeAddr = addr
			}
			cmd.ExtraFiles = append(cmd.ExtraFiles, pf)
		}
	}

	for _, stream := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		closeAfterStart = append(closeAfterStart, w)
		if stream == "stdout" {
			cmd.Stdout = w
		} else {
			cmd.Stderr = w
		}
		inst.logs.Add(1)
		go func() {
			defer inst.logs.Done()
			defer r.Close()
			p.pump(r, stream, inst)
		}()
	}

	startErr := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, after the
		// program has been reaped.
		runtime.LockOSThread()
		if err := startCmd(cmd); err != nil {
			close(inst.begun)
			startErr <- err
			return
		}
		inst.pid = cmd.Process.Pid
		inst.cmd = cmd
		dismiss := startWatchdog(inst.pid)
		close(inst.begun)
		startErr <- nil
		inst.status = waitCmd(cmd)
		close(inst.exited)
		// the group may outlive its leader (see recordExit); keep guarding
		// it until its output pipes close, i.e. every member is gone
		go func() { inst.logs.Wait(); dismiss() }()
	}()
	if err := <-startErr; err != nil {
		// the pipes' write ends close in the deferred func: readers end
		return nil, err
	}
	return inst, nil
}

// pump turns each output line into a log entry: error level for Python
// tracebacks and Gunicorn's [ERROR] and [CRITICAL] lines, info for the
// others (see lineClassifier). Lines up to 1 MiB stay whole; a longer line
// is logged in 1 MiB parts marked partial.
func (p *process) pump(r io.Reader, stream string, inst *instance) {
	// a small reader (lines longer than it are put together in buf): each
	// supervised process has two, for as long as it runs
	br := bufio.NewReaderSize(r, 4<<10)
	var buf []byte
	var lines lineClassifier
	emit := func(line []byte, partial bool) {
		// pid is read after start: the reader may start before Start returns
		<-inst.begun
		fields := []zap.Field{zap.String("stream", stream), zap.Int("pid", inst.pid)}
		if partial {
			fields = append(fields, zap.Bool("partial", true))
		}
		text := string(line)
		if r := p.spec.ReadyLine; r != "" && strings.Contains(text, r) {
			inst.loadedOnce.Do(func() { close(inst.loaded) })
		}
		kind := lines.classify(text)
		inst.out.note(text, kind, stream == "stderr")
		if kind == lineInfo {
			p.output().Info(text, fields...)
		} else {
			p.output().Error(text, fields...)
		}
	}
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			line := buf[:len(buf)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			emit(line, false)
			buf = buf[:0]
		case errors.Is(err, bufio.ErrBufferFull):
			if len(buf) >= maxLogLineBytes {
				emit(buf, true)
				buf = buf[:0]
			}
		default:
			if len(buf) > 0 {
				emit(buf, false)
			}
			return
		}
		if cap(buf) > 4*maxLogLineBytes {
			buf = nil
		}
	}
}

// Interface guards
var _ fmt.Stringer = exitInfo{}
