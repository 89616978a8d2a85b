package caddydjango

import (
	"errors"
	"net/http"
	"strings"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// `caddy django status --check`: the health rule of health.go as exit
// codes, for container health checks.

// Exit code of `status --check` when the admin API cannot be reached (an
// unhealthy app is 1, like any other error).
const (
	checkUnreachable = 2
)

// runCheck fetches the statuses at path (all processes, or those named
// args[0]), prints them, and fails when the health rule does not hold or
// Caddy drains or stops (exit 1, naming each failing process and why) or
// when the admin API cannot be reached (exit 2).
func runCheck(c *cobra.Command, path string, args []string) error {
	addr, err := adminAddress(c)
	if err != nil {
		return exitWith(c, checkUnreachable, err)
	}
	body, sts, err := fetchStatuses(addr, http.MethodGet, path)
	if errors.As(err, new(unreachableError)) {
		return exitWith(c, checkUnreachable, err)
	}
	if err != nil {
		return err
	}
	if err := printStatuses(c, body, sts); err != nil {
		return err
	}
	name := ""
	if len(args) == 1 {
		name = args[0]
	}
	var problems []string
	if p := checkDraining(addr); p != "" {
		problems = append(problems, p)
	}
	if bad := unhealthy(sts, name); len(bad) > 0 {
		problems = append(problems, describeUnhealthy(bad))
	}
	if len(problems) > 0 {
		return errors.New("unhealthy: " + strings.Join(problems, "; "))
	}
	return nil
}

// describeUnhealthy names each failing process, its state and, when known,
// why (its last exit or error).
func describeUnhealthy(bad []ProcessStatus) string {
	var parts []string
	for _, s := range bad {
		msg := problemOf(s)
		if last := lastCell(s); last != "-" {
			msg += " (" + last + ")"
		}
		parts = append(parts, msg)
	}
	return strings.Join(parts, "; ")
}

// exitWith makes the caddy command exit with code (other than 1) after
// logging err, through the only way caddycmd offers to pick an exit code.
func exitWith(c *cobra.Command, code int, err error) error {
	return caddycmd.WrapCommandFuncForCobra(func(caddycmd.Flags) (int, error) { return code, err })(c, nil)
}
