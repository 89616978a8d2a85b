package caddydjango

import (
	"runtime"
	"strings"
	"testing"
)

// Config strings keep every brace that is not one of Caddy's global
// placeholders (issue 11, item 1: they used to be erased).
func TestExpandPlaceholders(t *testing.T) {
	t.Setenv("CADDY_DJANGO_PH", "known")
	for _, tc := range []struct{ in, want string }{
		{`plain`, `plain`},
		{`{"a":1}`, `{"a":1}`},
		{`x{unknown.thing}y`, `x{unknown.thing}y`},
		{`a{b}c`, `a{b}c`},
		{`{`, `{`},
		{`}{`, `}{`},
		{`{env.CADDY_DJANGO_PH}/x`, `known/x`},
		{`{"k":"{env.CADDY_DJANGO_PH}"}`, `{"k":"known"}`},
		{`{system.os}`, runtime.GOOS},
		{`[{env.CADDY_DJANGO_UNSET_PH}]`, `[]`},
		// Caddy's escape: a backslash before a brace makes it literal.
		{`\{env.CADDY_DJANGO_PH}`, `{env.CADDY_DJANGO_PH}`},
	} {
		got, err := expandPlaceholders("env X", tc.in)
		if err != nil || got != tc.want {
			t.Errorf("expandPlaceholders(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// Input Caddy's replacer refuses is an error naming the option, not a value
// silently turned into "".
func TestExpandPlaceholdersError(t *testing.T) {
	_, err := expandPlaceholders("env X", strings.Repeat("{", 102))
	if err == nil || !strings.HasPrefix(err.Error(), "env X: ") {
		t.Fatalf("got %v, want an error naming env X", err)
	}
}
