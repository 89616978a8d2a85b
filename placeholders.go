package caddydjango

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
)

// expandPlaceholders resolves Caddy's global placeholders ({env.*},
// {system.*}, {file.*}, {time.*}, ...) in a user-supplied config string
// (a root, a path, an env value, an upstream) and leaves every other brace as
// written: `{"a":1}` and `x{unknown}y` reach the process unchanged. As
// everywhere in Caddy, a backslash right before a brace escapes it and is
// dropped (`\{env.HOME}` gives the literal `{env.HOME}`). field names the
// option in the error Caddy's replacer returns for pathological input.
func expandPlaceholders(field, s string) (string, error) {
	// ReplaceOrErr without errOnEmpty/errOnUnknown is ReplaceKnown that also
	// reports its error instead of returning "" (more than 100 unclosed '{').
	out, err := caddy.NewReplacer().ReplaceOrErr(s, false, false)
	if err != nil {
		return "", fmt.Errorf("%s: %v", field, err)
	}
	return out, nil
}
