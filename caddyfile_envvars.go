package caddydjango

import (
	"bufio"
	"os"
	"regexp"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// Caddy replaces `{$VAR}` and `{$VAR:default}` as text before it splits a
// Caddyfile into tokens (caddyfile.allTokens), and applies the default only
// when VAR is unset: a variable set to the empty string leaves no token at
// all, so `args {$GUNICORN_ARGS}` reaches the parser as a bare `args`, and
// the tokens keep no trace of the variable. To say which variable it was,
// an error message reads the option's line again from the token's file
// (when it is there: a Caddyfile posted to the admin API has none) and
// names the variables on it. Only messages use it: what a line means never
// depends on the file being readable.

// envRefRE matches Caddy's environment references: `{$NAME}` or
// `{$NAME:default}` (caddyfile.replaceEnvVars).
var envRefRE = regexp.MustCompile(`\{\$([^}:]+)(:[^}]*)?\}`)

// maxSourceLine bounds a line read back for a message.
const maxSourceLine = 64 << 10

// emptyValueHint explains, for the option at d's cursor (opt, with no value
// or fewer values than it needs), what the `{$VAR}` references on its
// line in the Caddyfile expanded to, e.g. ` ({$GUNICORN_ARGS}:
// GUNICORN_ARGS is not set)`; "" when the line has none. read is false
// when the line could not be read back.
func emptyValueHint(d *caddyfile.Dispenser, opt string) (hint string, read bool) {
	line := sourceLine(d.File(), d.Line())
	if f := strings.Fields(line); len(f) == 0 || f[0] != opt {
		return "", false // not the line the token came from
	}
	var says []string
	for _, m := range envRefRE.FindAllStringSubmatch(line, -1) {
		name, def := m[1], strings.TrimPrefix(m[2], ":")
		v, set := os.LookupEnv(name)
		switch {
		case set && strings.TrimSpace(v) == "":
			says = append(says, m[0]+": "+name+" is set to the empty string")
		case !set && m[2] == "":
			says = append(says, m[0]+": "+name+" is not set")
		case !set && strings.TrimSpace(def) == "":
			says = append(says, m[0]+": "+name+" is not set and the default is empty")
		}
	}
	if len(says) == 0 {
		return "", true
	}
	return " (" + strings.Join(says, "; ") + ")", true
}

// sourceLine returns line n (from 1) of file, "" when it cannot be read.
func sourceLine(file string, n int) string {
	if file == "" || n < 1 {
		return ""
	}
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), maxSourceLine)
	for i := 1; sc.Scan(); i++ {
		if i == n {
			return sc.Text()
		}
	}
	return ""
}

// missingValueErr is the error for an option opt given no value: "<opt>
// <needs>", then what the {$VAR} references on its line expanded to, or,
// when the line cannot be read back, that one may have expanded to
// nothing.
func missingValueErr(d *caddyfile.Dispenser, opt, needs string) error {
	hint, read := emptyValueHint(d, opt)
	if !read {
		hint = " (a {$VARIABLE} that is unset or empty leaves none)"
	}
	return d.Errf("%s %s%s", opt, needs, hint)
}
