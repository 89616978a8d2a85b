package caddydjango

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// ReleaseCommand is one release command. In JSON it is either the argument
// vector alone (`["python", "manage.py", "migrate"]`, the form of earlier
// versions) or an object with options.
type ReleaseCommand struct {
	// Command is the program and its arguments.
	Command []string `json:"command"`

	// User runs the command as this user (Caddy must run as root), e.g.
	// the app's user for `migrate`. Default: Caddy's user.
	User string `json:"user,omitempty"`

	// Env is added to the app's environment for this command only.
	Env map[string]string `json:"env,omitempty"`

	// Dir is the working directory, relative to the app's root.
	Dir string `json:"dir,omitempty"`

	// Timeout bounds this command (and its check). Default: the app's
	// release_timeout.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// Enabled, when false, skips the command (logged). In the Caddyfile,
	// `enabled <value>` is decided from the environment when it is read
	// (conditions.go). Default: true.
	Enabled *bool `json:"enabled,omitempty"`

	// If is a check command run (with the command's environment,
	// directory, user and timeout) each time the release commands run:
	// the command runs only when the check exits 0. A check that cannot
	// start, is killed or times out fails the release. Default: none.
	If []string `json:"if,omitempty"`

	// Unless is a check like If, inverted: the command runs only when the
	// check exits non-zero, e.g. `["python", "manage.py", "migrate",
	// "--check"]` before `migrate`. At most one of If and Unless.
	Unless []string `json:"unless,omitempty"`
}

// plain reports whether rc has no options (its JSON is the argv alone).
func (rc ReleaseCommand) plain() bool {
	return rc.User == "" && len(rc.Env) == 0 && rc.Dir == "" && rc.Timeout == 0 &&
		rc.Enabled == nil && len(rc.If) == 0 && len(rc.Unless) == 0
}

// MarshalJSON writes a command without options as its argument vector.
func (rc ReleaseCommand) MarshalJSON() ([]byte, error) {
	if rc.plain() {
		return json.Marshal(rc.Command)
	}
	type object ReleaseCommand
	return json.Marshal(object(rc))
}

// UnmarshalJSON reads an argument vector or an object.
func (rc *ReleaseCommand) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '[' {
		*rc = ReleaseCommand{}
		return json.Unmarshal(b, &rc.Command)
	}
	type object ReleaseCommand
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // as Caddy decodes the rest of the config
	return dec.Decode((*object)(rc))
}

// releaseSpec resolves the command's environment, directory and user the
// way a process's are.
func (rc ReleaseCommand) releaseSpec(a *App) (*spec, error) {
	if len(rc.Command) == 0 || rc.Command[0] == "" {
		return nil, fmt.Errorf("empty command")
	}
	if rc.Timeout < 0 {
		return nil, fmt.Errorf("timeout must not be negative")
	}
	opts := ProcessOptions{Env: rc.Env, Dir: rc.Dir, User: rc.User, Enabled: rc.Enabled}
	s, err := opts.resolve(a, "release", "release", rc.Command, 0)
	if err != nil {
		return nil, err
	}
	s.Timeout = time.Duration(rc.Timeout) // 0: the app's release_timeout
	switch {
	case rc.If != nil && rc.Unless != nil:
		return nil, fmt.Errorf("if and unless: use one of them")
	case rc.If != nil:
		s.check = &releaseCheck{argv: rc.If}
	case rc.Unless != nil:
		s.check = &releaseCheck{argv: rc.Unless, unless: true}
	}
	if s.check != nil && (len(s.check.argv) == 0 || s.check.argv[0] == "") {
		return nil, fmt.Errorf("%s: empty check command", s.check)
	}
	return s, nil
}

// provisionReleases resolves the release commands.
func (a *App) provisionReleases() error {
	a.releases = nil
	for i, rc := range a.Release {
		s, err := rc.releaseSpec(a)
		if err != nil {
			return fmt.Errorf("release[%d]: %v", i, err)
		}
		a.releases = append(a.releases, s)
	}
	return nil
}

// unmarshalRelease parses `release <command...> [{ user, env, dir,
// timeout, enabled, if, unless }]` at the dispenser's cursor.
func unmarshalRelease(d *caddyfile.Dispenser) (ReleaseCommand, error) {
	var rc ReleaseCommand
	rc.Command = d.RemainingArgs()
	if len(rc.Command) == 0 {
		return rc, d.Err("release needs a command, e.g. release ./manage.py migrate --noinput")
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch opt := d.Val(); opt {
		case "user":
			err = oneArg(d, &rc.User)
		case "env":
			err = parseEnv(d, &rc.Env)
		case "dir":
			err = oneArg(d, &rc.Dir)
		case "timeout":
			err = durationArg(d, &rc.Timeout, minPositive)
		case "enabled":
			var on bool
			on, err = enabledArg(d)
			rc.Enabled = &on
		case "if", "unless":
			err = releaseCheckArg(d, &rc)
		default:
			err = d.Errf("unknown release option %q (want user, env, dir, timeout, enabled, if or unless)", opt)
		}
		if err != nil {
			return rc, err
		}
	}
	return rc, nil
}

// releaseCheckArg reads `if <command...>` or `unless <command...>` at
// the dispenser's cursor into rc.
func releaseCheckArg(d *caddyfile.Dispenser, rc *ReleaseCommand) error {
	opt := d.Val()
	argv := d.RemainingArgs()
	if len(argv) == 0 {
		return missingValueErr(d, opt, `needs a command, e.g. unless python manage.py migrate --check`)
	}
	if rc.If != nil || rc.Unless != nil {
		return d.Errf("%s: a release command takes one check (if or unless)", opt)
	}
	if opt == "if" {
		rc.If = argv
	} else {
		rc.Unless = argv
	}
	return nil
}

// Interface guards
var (
	_ json.Marshaler   = ReleaseCommand{}
	_ json.Unmarshaler = (*ReleaseCommand)(nil)
)
