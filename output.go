package caddydjango

import (
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
	case lineException:
		o.exception = line
	case lineError:
		o.errLine = line
	}
	if stderr {
		o.stderr = line
	}
}

// reason is the last meaningful error line: the Python exception, else the
// last error line, else the last stderr line ("" when there was none).
func (o *outputSummary) reason() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range []string{o.exception, o.errLine, o.stderr} {
		if s != "" {
			return truncateReason(s)
		}
	}
	return ""
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
