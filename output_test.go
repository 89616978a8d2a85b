package caddydjango

import "testing"

// TestLineClassifier: a chained Python traceback is error level from its
// header to its last exception line, which becomes last_error; Gunicorn's
// [ERROR]/[CRITICAL] lines are error level; everything else stays info.
func TestLineClassifier(t *testing.T) {
	lines := []struct {
		text string
		want lineKind
	}{
		{"[2026-12-01 03:52:39 +0000] [25890] [INFO] Booting worker with pid: 25890", lineInfo},
		{"[2026-12-01 03:52:39 +0000] [25890] [ERROR] Exception in worker process", lineError},
		{"Traceback (most recent call last):", lineTraceback},
		{`  File "/app/settings.py", line 3, in <module>`, lineTraceback},
		{"    import nope", lineTraceback},
		{"ImportError: cannot import name 'x'", lineException},
		{"", lineInfo},
		{"During handling of the above exception, another exception occurred:", lineTraceback},
		{"", lineInfo},
		{"Traceback (most recent call last):", lineTraceback},
		{`  File "<frozen importlib._bootstrap>", line 1206, in _gcd_import`, lineTraceback},
		{"ModuleNotFoundError: No module named 'nope'", lineException},
		{"[2026-12-01 03:52:40 +0000] [25889] [INFO] Reason: Worker failed to boot.", lineInfo},
		{"[2026-12-01 03:53:10 +0000] [25889] [CRITICAL] WORKER TIMEOUT (pid:25890)", lineError},
	}
	var c lineClassifier
	var out outputSummary
	for i, l := range lines {
		got := c.classify(l.text)
		if got != l.want {
			t.Errorf("line %d %q: kind %d, want %d", i, l.text, got, l.want)
		}
		out.note(l.text, got, true)
	}
	if r := out.reason(); r != "ModuleNotFoundError: No module named 'nope'" {
		t.Errorf("reason %q, want the last exception line", r)
	}

	var plain outputSummary
	plain.note("error: cannot open config", lineInfo, true)
	plain.note("to stdout", lineInfo, false)
	if r := plain.reason(); r != "error: cannot open config" {
		t.Errorf("reason without a traceback %q, want the last stderr line", r)
	}
}

// TestReasonSaysWhere: the exception line comes with where it was raised:
// the project's last frame in the traceback (a SyntaxError's own file and
// line), rather than Python's or an installed package's.
func TestReasonSaysWhere(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{
			"Traceback (most recent call last):",
			`  File "/usr/lib/python3/dist-packages/gunicorn/arbiter.py", line 589, in spawn_worker`,
			`  File "<frozen importlib._bootstrap>", line 1206, in _gcd_import`,
			`  File "/app/shop/urls.py", line 3, in <module>`,
			"    from . import views",
			`  File "/app/shop/views.py", line 12`,
			"    def broken(:",
			"               ^",
			"SyntaxError: invalid syntax",
		}, "SyntaxError: invalid syntax (/app/shop/views.py, line 12)"},
		{[]string{
			"Traceback (most recent call last):",
			`  File "/app/config/settings.py", line 40, in <module>`,
			`    SECRET_KEY = env("SECRET_KEY")`,
			`  File "/usr/lib/python3/dist-packages/django/conf/__init__.py", line 90, in __getattr__`,
			"django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty.",
		}, "django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty. (/app/config/settings.py, line 40)"},
		{[]string{
			"Traceback (most recent call last):",
			`  File "/usr/lib/python3.11/importlib/__init__.py", line 126, in import_module`,
			"ModuleNotFoundError: No module named 'config'",
		}, "ModuleNotFoundError: No module named 'config' (/usr/lib/python3.11/importlib/__init__.py, line 126)"},
	} {
		var c lineClassifier
		var out outputSummary
		for _, l := range tc.lines {
			out.note(l, c.classify(l), true)
		}
		if r := out.reason(); r != tc.want {
			t.Errorf("reason %q\nwant   %q", r, tc.want)
		}
	}
}
