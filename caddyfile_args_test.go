package caddydjango

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// Tests of the Caddyfile argument helpers both directives use: accepted
// ranges and one wording for errors, with the line.

// argDispenser returns a dispenser on the first token of the one-line
// input, as the helpers see an option.
func argDispenser(t *testing.T, line string) *caddyfile.Dispenser {
	t.Helper()
	d := caddyfile.NewTestDispenser("\n" + line)
	if !d.Next() {
		t.Fatalf("no token in %q", line)
	}
	return d
}

// wantArgErr checks err's message and that it names line 2.
func wantArgErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), ":2") {
		t.Errorf("error %q, want it to contain %q and the line (:2)", err, want)
	}
}

func TestArgOne(t *testing.T) {
	var s string
	if err := oneArg(argDispenser(t, "root /app"), &s); err != nil || s != "/app" {
		t.Fatalf("got %q, %v", s, err)
	}
	wantArgErr(t, oneArg(argDispenser(t, "root"), &s), "root needs a value")
	wantArgErr(t, oneArg(argDispenser(t, "root /a /b"), &s), `root takes one value, got extra "/b"`)
}

func TestArgDuration(t *testing.T) {
	for _, tc := range []struct {
		line    string
		minimum time.Duration
		want    time.Duration
		err     string
	}{
		{"backoff 500ms", 0, 500 * time.Millisecond, ""},
		{"backoff 0", 0, 0, ""},
		{"max_age 365d", minPositive, 365 * 24 * time.Hour, ""},
		{"max_age 0s", minPositive, 0, `max_age: "0s" must be positive`},
		{"max_age -1m", minPositive, 0, `max_age: "-1m" must be positive`},
		{"backoff -1s", 0, 0, `backoff: "-1s" must not be negative`},
		{"backoff 1s", 2 * time.Second, 0, `backoff: "1s" must be at least 2s`},
		{"backoff soon", 0, 0, `backoff: "soon" is not a duration (examples: 500ms, 10s, 5m, 1h, 365d)`},
	} {
		var got caddy.Duration
		err := durationArg(argDispenser(t, tc.line), &got, tc.minimum)
		if tc.err != "" {
			wantArgErr(t, err, tc.err)
			continue
		}
		if err != nil || time.Duration(got) != tc.want {
			t.Errorf("%s (minimum %s): got %s, %v; want %s", tc.line, tc.minimum, time.Duration(got), err, tc.want)
		}
	}
}

func TestArgInt(t *testing.T) {
	var n int
	if err := intArg(argDispenser(t, "priority -5"), &n, -1<<31); err != nil || n != -5 {
		t.Fatalf("got %d, %v", n, err)
	}
	wantArgErr(t, intArg(argDispenser(t, "workers 0"), &n, 1), "workers must be at least 1, got 0")
	wantArgErr(t, intArg(argDispenser(t, "workers many"), &n, 1), `workers: "many" is not a whole number`)
}

func TestArgSize(t *testing.T) {
	var n int64
	for line, want := range map[string]int64{"max_body 10MB": 10_000_000, "max_body 64KiB": 64 << 10, "max_body 1": 1} {
		if err := sizeArg(argDispenser(t, line), &n); err != nil || n != want {
			t.Errorf("%s: got %d, %v; want %d", line, n, err, want)
		}
	}
	for _, bad := range []string{"lots", "0", "-5MB", "100EB"} {
		wantArgErr(t, sizeArg(argDispenser(t, "max_body "+bad), &n), `max_body: "`+bad+`" is not a size (examples: 512KB, 10MB, 1GiB)`)
	}
}
