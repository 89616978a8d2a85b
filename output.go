package caddydjango

import (
	"cmp"
	"strings"
	"sync"
	"unicode/utf8"
)

// lineKind is what a program's output line says about errors.
type lineKind int

const (
	lineInfo      lineKind = iota
	lineTraceback          // a traceback's header, frames and chaining lines
	lineException          // the exception line that ends a Python traceback
	lineError              // a Gunicorn [ERROR] or [CRITICAL] line
)

// lineClassifier tells the error lines of one output stream: a Python
// traceback ("Traceback (most recent call last):", its indented frames,
// then the exception line, e.g. "ModuleNotFoundError: No module named
// 'nope'"), the lines that chain tracebacks, and Gunicorn's log lines at
// level ERROR or CRITICAL.
type lineClassifier struct{ inTraceback bool }

func (c *lineClassifier) classify(line string) lineKind {
	switch {
	case strings.HasPrefix(line, "Traceback (most recent call last):"):
		c.inTraceback = true
		return lineTraceback
	case strings.HasPrefix(line, "During handling of the above exception") ||
		strings.HasPrefix(line, "The above exception was the direct cause"):
		return lineTraceback
	case c.inTraceback && (line == "" || line[0] == ' ' || line[0] == '\t'):
		return lineTraceback
	case c.inTraceback:
		c.inTraceback = false
		return lineException
	case strings.Contains(line, "] [ERROR] ") || strings.Contains(line, "] [CRITICAL] "):
		return lineError
	}
	return lineInfo
}

// outputSummary keeps the lines of one OS process that explain a failed
// start. Both output streams write to it.
type outputSummary struct {
	mu        sync.Mutex
	exception string // the last Python exception line
	where     string // where it was raised: "FILE, line N" (frameLocation)
	frameOurs string // the current traceback's last frame of the project's code
	frameAny  string // and its last frame
	errLine   string // the last other error line (Gunicorn [ERROR]/[CRITICAL])
	stderr    string // the last non-blank stderr line
}

func (o *outputSummary) note(line string, kind lineKind, stderr bool) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch kind {
	case lineTraceback:
		if strings.HasPrefix(line, "Traceback (most recent call last):") {
			o.frameOurs, o.frameAny = "", ""
		} else if loc, ours := frameLocation(line); loc != "" {
			o.frameAny = loc
			if ours {
				o.frameOurs = loc
			}
		}
	case lineException:
		o.exception, o.where = line, cmp.Or(o.frameOurs, o.frameAny)
		o.frameOurs, o.frameAny = "", ""
	case lineError:
		o.errLine = line
	}
	if stderr {
		o.stderr = line
	}
}

// reason is the last meaningful error line: the Python exception (with
// where it was raised, when its traceback says), else the last error line,
// else the last stderr line ("" when there was none).
func (o *outputSummary) reason() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	exception := o.exception
	if exception != "" && o.where != "" {
		exception += " (" + o.where + ")"
	}
	for _, s := range []string{exception, o.errLine, o.stderr} {
		if s != "" {
			return truncateReason(s)
		}
	}
	return ""
}

// frameLocation reads a traceback's frame line (`File "PATH", line N, in
// F`, or a SyntaxError's `File "PATH", line N`): "PATH, line N", and
// whether PATH is the project's own code rather than Python's or an
// installed package's (frozen importlib frames give ""). The last frame of
// the project's own code is where its error is, even when the exception
// is raised deeper (Django's ImproperlyConfigured).
func frameLocation(line string) (loc string, ours bool) {
	rest, ok := strings.CutPrefix(line, `File "`)
	if !ok {
		return "", false
	}
	path, rest, ok := strings.Cut(rest, `", line `)
	if !ok || strings.HasPrefix(path, "<") {
		return "", false
	}
	n, _, _ := strings.Cut(rest, ",")
	ours = !strings.Contains(path, "/site-packages/") && !strings.Contains(path, "/dist-packages/") &&
		!strings.Contains(path, "/lib/python")
	return path + ", line " + n, ours
}

// truncateReason keeps last_error short enough for a status table.
func truncateReason(s string) string {
	const max = 500
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
