package caddydjango

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
)

// Conditions: which entries run, decided from the environment the way
// entrypoint scripts decide it. `enabled <value>` (processes, app servers,
// schedules, release commands) is evaluated when the Caddyfile is adapted,
// after Caddy substituted `{$VAR}`: the JSON config holds its result. A
// release command's `if` / `unless` check is a command run before it, each
// time the release commands run.

// truthy is the value of a flag as entrypoint scripts read it: false for
// an empty value (or only spaces), `0`, `false`, `no` and `off` in any
// case; true for anything else, so that "any non-empty value" flags
// (`PAPERLESS_ENABLE_FLOWER=1`, `SMTPD_PORT=25`) work as written.
func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

// enabledArg reads `enabled [!]<value> [is <word>...]` at d's cursor (the
// option's name) and returns whether the entry is on:
//
//   - `enabled <value>`: truthy(value); an empty value (a `{$VAR}` set to
//     the empty string leaves no token) is false.
//   - `enabled !<value>`: the opposite (`!` alone, from `!{$VAR}` with VAR
//     empty, is true). `! <value>` works too.
//   - `enabled <value> is <word>...`: whether value is one of the words,
//     compared exactly (`enabled {$WEBLATE_SERVICE} is web celery-main`);
//     with `!`, whether it is none of them.
func enabledArg(d *caddyfile.Dispenser) (bool, error) {
	opt := d.Val()
	args := d.RemainingArgs()
	negate := false
	if len(args) > 0 && strings.HasPrefix(args[0], "!") {
		negate = true
		if args[0] = args[0][1:]; args[0] == "" {
			args = args[1:]
		}
	}
	value, words, isForm := "", []string(nil), false
	switch {
	case len(args) >= 2 && args[1] == "is":
		value, words, isForm = args[0], args[2:], true
	case len(args) >= 1 && args[0] == "is":
		words, isForm = args[1:], true // the value expanded to nothing
	case len(args) == 1:
		value = args[0]
	case len(args) > 1:
		return false, d.Errf("%s takes one value, got %q and %q (a {$VARIABLE} whose value has spaces gives several; "+
			"to compare a value with words, write: %s {$ROLE} is web worker)", opt, args[0], args[1], opt)
	}
	if isForm && len(words) == 0 {
		return false, d.Errf("%s %s is: name the words to compare the value with, e.g. %s {$ROLE} is web worker", opt, value, opt)
	}
	for _, v := range append([]string{value}, words...) {
		if err := conditionWord(v); err != nil {
			return false, d.Errf("%s: %v", opt, err)
		}
	}
	on := truthy(value)
	if isForm {
		on = slices.Contains(words, value)
	}
	return on != negate, nil
}

// conditionWord refuses what looks like a variable that was not
// substituted: Caddy replaces only `{$NAME}` in the Caddyfile; a runtime
// placeholder (`{env.NAME}`) or shell syntax (`$NAME`, `${NAME}`) would
// stay as text and count as a non-empty value.
func conditionWord(v string) error {
	switch {
	case strings.HasPrefix(v, "{env.") && strings.HasSuffix(v, "}"):
		name := strings.TrimSuffix(strings.TrimPrefix(v, "{env."), "}")
		return fmt.Errorf("%q is a placeholder, not replaced in a condition; write {$%s} (Caddy substitutes it when it reads the Caddyfile)", v, name)
	case strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}"):
		return fmt.Errorf("%q is a placeholder, not replaced in a condition; for an environment variable write {$NAME} or {$NAME:default}", v)
	case strings.HasPrefix(v, "$"):
		name := strings.Trim(v, "${}")
		return fmt.Errorf("%q is shell syntax, not replaced in the Caddyfile; write {$%s} (or {$%s:default})", v, name, name)
	}
	return nil
}

// releaseCheck is a release command's `if` or `unless` check.
type releaseCheck struct {
	argv   []string
	unless bool // run the command when the check fails
}

func (c *releaseCheck) String() string {
	word := "if"
	if c.unless {
		word = "unless"
	}
	return word + " " + strings.Join(c.argv, " ")
}

// releaseWanted reports whether release command s is to run: it is
// enabled and its check, if any, says so. A check that cannot start, is
// killed or times out is an error (as the command itself would be): a
// typo in a check never silently skips or runs a migration.
func (a *App) releaseWanted(ctx context.Context, s *spec) (bool, error) {
	log := a.logger.Named("release")
	argv := strings.Join(s.Argv, " ")
	if s.Disabled {
		log.Info("release command disabled (enabled is false); skipped", zap.String("command", argv))
		return false, nil
	}
	c := s.check
	if c == nil {
		return true, nil
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = time.Duration(a.ReleaseTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, tail, err := runLogged(ctx, s, c.argv, timeout, log)
	if err != nil {
		return false, fmt.Errorf("release command %q: its check %q cannot start: %v", argv, c, err)
	}
	if st.err != nil || st.signal != "" {
		return false, fmt.Errorf("release command %q: its check %q failed: %s\n%s", argv, c, st, strings.TrimSpace(tail))
	}
	run := (st.code == 0) != c.unless
	msg := "release command skipped by its check"
	if run {
		msg = "release command runs: its check says so"
	}
	log.Info(msg, zap.String("command", argv), zap.String("check", c.String()), zap.Int("check_exit", st.code))
	return run, nil
}
