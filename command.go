package caddydjango

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// `caddy django ...`: a supervisorctl-like client of the django app's admin
// endpoints (admin.go), reached the way `caddy reload` and `caddy stop`
// reach the admin API (--address, else the admin address in --config, else
// localhost:2019).

const djangoShort = "Shows and controls the django app's processes through the private admin API"

const djangoLong = `
Shows and controls the processes of the running Caddy's django app (app
servers such as Gunicorn or uvicorn, workers, other programs), like
supervisorctl:

	caddy django status [<name>]        status table (--json for the API's JSON)
	caddy django status --check [<name>]  health check: exit 0 healthy, 1 not,
	                                    2 when the admin API cannot be reached
	caddy django restart <name>         restart (zero-downtime for app servers)
	caddy django stop <name>            stop; it stays stopped until started
	caddy django start <name>           start a stopped, exited or fatal process
	caddy django signal <name> <sig>    send a signal: HUP, TTIN, TTOU, USR1,
	                                    USR2, WINCH to the process, TERM, INT,
	                                    QUIT, KILL to its process group
	caddy django reload                 deploy: release commands, new app
	                                    servers, then restart the other processes
	caddy django exec [--] <command>    run a command with the app's root, env
	                                    and user (e.g. manage.py createsuperuser)
	caddy django files                  static and media paths in effect and where
	                                    each came from (Caddyfile, settings, default)

<name> is a process name, or a group name for every replica of a process.
Every command prints the resulting status table and exits non-zero, with the
API's error message, when the action fails. restart, stop and reload also
print a warning on stderr for each process that did not stop within its
stop_timeout and was SIGKILLed (its work cut off); they still exit 0.

A deploy hook is typically:

	git pull && caddy django reload

These commands use Caddy's admin API (its /django/ endpoints), so it must be
enabled and reachable from here. Its address is taken from --address if set,
otherwise from the config given with --config (and --adapter), otherwise the
default (localhost:2019) is used.

The admin API controls the whole server and every supervised process: keep
it bound to localhost or a unix socket and never expose it publicly.
`

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:      "django",
		Usage:     "<status|restart|stop|start|signal|reload|exec> [<args>] [--address <interface>] [--config <path> [--adapter <name>]] [--json] [--check]",
		Short:     djangoShort,
		Long:      djangoLong,
		CobraFunc: setupDjangoCommand,
	})
}

// setupDjangoCommand configures cmd (the `django` command) with its flags
// and subcommands.
func setupDjangoCommand(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	pf.StringP("address", "", "", "The address of Caddy's admin API, if not the default or the one in --config")
	pf.StringP("config", "c", "", "Configuration file to read the admin address from, if --address is not used")
	pf.StringP("adapter", "a", "", "Name of config adapter to apply (when --config is used)")
	pf.BoolP("json", "", false, "Print the API's JSON instead of the status table")
	pf.DurationP("wait", "", 30*time.Second, "How long start, restart and reload wait for the processes to be RUNNING (0: print the state at once)")

	// Without this, `caddy django relaod` would print the help and exit 0.
	cmd.SuggestionsMinimumDistance = 2
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return errors.New(msg)
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }

	status := &cobra.Command{
		Use:   "status [<name>]",
		Short: "Shows the status of every process, or of one process or group",
		Long: `
Prints a table of the django app's processes (or only <name>, a process or a
group): name, state, PID, uptime, restarts and the last exit or error.
States are supervisord's: STOPPED, STARTING, RUNNING, BACKOFF, STOPPING,
EXITED, FATAL. For a process that could not start (FATAL), the error is the
last meaningful line it printed: Python's exception line (e.g.
"ModuleNotFoundError: No module named 'config'"), else its last error line.
With --json, prints the admin API's JSON instead (last_exit, last_error).

With --check, exits 0 when every app server (gunicorn, uvicorn, …) is RUNNING and no
process is FATAL or BACKOFF (with <name>: when that process, or every
replica of that group, is RUNNING) and Caddy is not draining or stopping
(see drain), 1 otherwise, saying which process is wrong and why, and 2 when
the admin API cannot be reached. For a container health check:

	HEALTHCHECK CMD ["caddy", "django", "status", "--check"]
`,
		Args: argsNamed(0, "name"),
		RunE: func(c *cobra.Command, args []string) error {
			path := "/django/processes"
			if len(args) == 1 {
				path += "/" + url.PathEscape(args[0])
			}
			if check, _ := c.Flags().GetBool("check"); check {
				return runCheck(c, path, args)
			}
			err := runDjango(c, http.MethodGet, path, "")
			if raw, _ := c.Flags().GetBool("json"); err == nil && !raw && len(args) == 0 {
				printClusterSection(c)
				printFilesSection(c)
			}
			return err
		},
	}
	status.Flags().Bool("check", false, "Exit 0 if healthy, 1 if not (saying why), 2 if the admin API cannot be reached")
	cmd.AddCommand(status)

	for _, a := range []struct {
		name, short, long string
		wait              bool
	}{
		{"restart", "Restarts a process or group (zero-downtime for app servers)", `
Restarts <name> (a process, or every replica of a group). An app server
(gunicorn, uvicorn, hypercorn, daphne, uwsgi) is swapped with zero downtime:
a new generation serves before the old one stops gracefully.
Waits (--wait) until it is RUNNING, then prints its status.
`, true},
		{"stop", "Stops a process or group until it is started again", `
Stops <name> (a process, or every replica of a group) gracefully: its stop
signal to its process group, then waits up to its stop timeout for every
process of the group to exit (a launcher's Gunicorn too), then SIGKILLs what
is left, and says so (a warning on stderr: what it was doing was cut off).
It stays STOPPED until 'caddy django start'. Prints the resulting status.
`, false},
		{"start", "Starts a stopped, exited or fatal process or group", `
Starts <name> (a process, or every replica of a group) if it is not running:
after 'caddy django stop', or once it is EXITED or FATAL. Waits (--wait)
until it is RUNNING, then prints its status.
`, true},
	} {
		action, wait := a.name, a.wait
		cmd.AddCommand(&cobra.Command{
			Use:   action + " <name>",
			Short: a.short,
			Long:  a.long,
			Args:  argsNamed(1, "name"),
			RunE: func(c *cobra.Command, args []string) error {
				path := "/django/processes/" + url.PathEscape(args[0])
				waitPath := ""
				if wait {
					waitPath = path
				}
				return runDjango(c, http.MethodPost, path+"/"+action, waitPath)
			},
		})
	}

	cmd.AddCommand(&cobra.Command{
		Use:   "signal <name> <signal>",
		Short: "Sends a signal to a process or group",
		Long: `
Sends <signal> to <name> (a process, or every replica of a group). Signals
are named with or without SIG: TERM, INT, QUIT, HUP, KILL, USR1, USR2, WINCH,
TTIN, TTOU.

Control signals (HUP, TTIN, TTOU, USR1, USR2, WINCH) go to the process itself
(the leader of its process group, e.g. Gunicorn's master), which passes them
on: 'signal gunicorn HUP' is Gunicorn's graceful reload of its workers,
'signal gunicorn TTIN' adds a worker; what HUP does for each app server is in
docs/caddyfile.md. Stop signals (TERM, INT, QUIT, KILL and
the others) go to its whole process group, as 'stop' does.

Prints the status as it is right after the signal was sent.
`,
		Args: argsNamed(2, "name", "signal"),
		RunE: func(c *cobra.Command, args []string) error {
			return runDjango(c, http.MethodPost, "/django/processes/"+url.PathEscape(args[0])+"/signal/"+url.PathEscape(args[1]), "")
		},
	})

	cmd.AddCommand(execCommand())
	cmd.AddCommand(filesCommand())

	cmd.AddCommand(&cobra.Command{
		Use:   "reload",
		Short: "Deploys: release commands, new app servers, restarted workers",
		Long: `
The deploy hook, run after new code is in place ('git pull && caddy django
reload'): runs the release commands (e.g. migrate, collectstatic), then swaps
each app server with zero downtime, then restarts the other processes. If a
release command fails, the deploy stops there, the running app servers keep
serving,
and this command exits non-zero. Waits (--wait) until the processes are
RUNNING, then prints their status.

This does not reload Caddy's config; 'caddy reload' does.
`,
		Args: argsNamed(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return runDjango(c, http.MethodPost, "/django/reload", "/django/processes")
		},
	})
}

// argsNamed validates positional arguments: exactly required of them, then
// the rest of names optional. Names may not be empty or contain a slash.
func argsNamed(required int, names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < required {
			return fmt.Errorf("missing <%s>; usage: %s", names[len(args)], c.UseLine())
		}
		if len(args) > len(names) {
			return fmt.Errorf("too many arguments (%q); usage: %s", args[len(names):], c.UseLine())
		}
		for i, a := range args {
			if a == "" || strings.Contains(a, "/") {
				return fmt.Errorf("invalid <%s> %q", names[i], a)
			}
		}
		return nil
	}
}

// runDjango sends the request to the admin API and prints the statuses it
// returns, as a table or (--json) as they came. With a waitPath, it first
// polls that path until the processes settle (see waitSettled).
func runDjango(c *cobra.Command, method, path, waitPath string) error {
	wait, _ := c.Flags().GetDuration("wait")
	addr, err := adminAddress(c)
	if err != nil {
		return err
	}
	body, sts, err := fetchStatuses(addr, method, path)
	if err != nil {
		return err
	}
	killed := slices.DeleteFunc(slices.Clone(sts), func(s ProcessStatus) bool { return s.Killed == nil })
	var waitErr error
	if waitPath != "" && wait > 0 {
		body, sts, waitErr = waitSettled(addr, waitPath, wait, body, sts)
	}
	err = printStatuses(c, body, sts)
	for _, s := range killed { // after the table, so that it is not scrolled away
		fmt.Fprintln(c.ErrOrStderr(), "warning: "+killedLine(s.Name, s.Killed))
	}
	if waitErr != nil {
		return waitErr
	}
	return err
}

// adminAddress is the admin API's address per the --address, --config and
// --adapter flags (as `caddy reload` finds it).
func adminAddress(c *cobra.Command) (string, error) {
	fl := c.Flags()
	address, _ := fl.GetString("address")
	config, _ := fl.GetString("config")
	adapter, _ := fl.GetString("adapter")
	addr, err := caddycmd.DetermineAdminAPIAddress(address, nil, config, adapter)
	if err != nil {
		return "", fmt.Errorf("couldn't determine the admin API address: %v", err)
	}
	return addr, nil
}

// printStatuses prints the statuses as a table, or (--json) the API's
// answer as it came.
func printStatuses(c *cobra.Command, body []byte, sts []ProcessStatus) error {
	out := c.OutOrStdout()
	if raw, _ := c.Flags().GetBool("json"); raw {
		_, err := out.Write(body)
		return err
	}
	return formatStatusTable(out, sts)
}

// waitSettled polls path until no process in it is on its way to RUNNING
// (STOPPED, STARTING, BACKOFF, STOPPING): the restart and start endpoints
// answer as soon as the new process was launched, often before it even left
// STOPPED. It fails when one ends FATAL or timeout passes first; either
// way it returns the latest statuses.
func waitSettled(addr, path string, timeout time.Duration, body []byte, sts []ProcessStatus) ([]byte, []ProcessStatus, error) {
	deadline := time.Now().Add(timeout)
	for {
		pending, fatal := settleState(sts)
		switch {
		case pending == nil && fatal != nil:
			msg := fmt.Sprintf("%s is FATAL", fatal.Name)
			if last := lastCell(*fatal); last != "-" {
				msg += ": " + last
			}
			return body, sts, errors.New(msg)
		case pending == nil:
			return body, sts, nil
		case time.Now().After(deadline):
			return body, sts, fmt.Errorf("%s is still %s after %s (see --wait)", pending.Name, pending.State, timeout)
		}
		time.Sleep(100 * time.Millisecond)
		b, s, err := fetchStatuses(addr, http.MethodGet, path)
		if err != nil {
			return body, sts, err
		}
		body, sts = b, s
	}
}

// settleState returns the first process that is not settled yet and the
// first that is FATAL, if any.
func settleState(sts []ProcessStatus) (pending, fatal *ProcessStatus) {
	for i := range sts {
		switch sts[i].State {
		case StateRunning, StateExited, StateDisabled, StateScheduled:
		case StateFatal:
			if fatal == nil {
				fatal = &sts[i]
			}
		default:
			if pending == nil {
				pending = &sts[i]
			}
		}
	}
	return pending, fatal
}

// fetchStatuses performs one request and decodes the statuses it answers.
func fetchStatuses(addr, method, path string) ([]byte, []ProcessStatus, error) {
	body, err := adminRequest(addr, method, path)
	if err != nil {
		return nil, nil, err
	}
	var sts []ProcessStatus
	if err := json.Unmarshal(body, &sts); err != nil {
		return nil, nil, fmt.Errorf("decoding the admin API's answer: %v", err)
	}
	return body, sts, nil
}

// adminRequest performs one admin API request with caddycmd's client (which
// also handles unix socket addresses) and turns its errors into messages for
// people.
func adminRequest(addr, method, path string) ([]byte, error) {
	resp, err := caddycmd.AdminAPIRequest(addr, method, path, nil, nil)
	if err != nil {
		return nil, adminError(addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the admin API's answer: %v", err)
	}
	return body, nil
}

// unreachableError: no connection to the admin API.
type unreachableError struct{ addr, detail string }

func (e unreachableError) Error() string {
	return fmt.Sprintf("cannot reach Caddy's admin API at %s: is Caddy running? (%s)", e.addr, e.detail)
}

// caddycmd.AdminAPIRequest formats its errors with %v, so they can only be
// told apart by their text.
var apiErrorRe = regexp.MustCompile(`(?s)^caddy responded with error: HTTP (\d+): (.*)$`)

// adminError rewrites an error of caddycmd.AdminAPIRequest: a failed
// connection says Caddy is probably not running; an error answer is reduced
// to the API's message (the "error" of Caddy's APIError JSON).
func adminError(addr string, err error) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "performing request: "); ok {
		return unreachableError{addr, rest}
	}
	m := apiErrorRe.FindStringSubmatch(msg)
	if m == nil {
		return err
	}
	code, _ := strconv.Atoi(m[1])
	body := strings.TrimSpace(m[2])
	var apiErr struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(body), &apiErr) == nil && apiErr.Error != "" {
		return errors.New(apiErr.Error)
	}
	if body == "" {
		body = http.StatusText(code)
	}
	return fmt.Errorf("admin API at %s answered HTTP %d: %s", addr, code, body)
}

// formatStatusTable writes statuses as a table like `supervisorctl status`.
func formatStatusTable(w io.Writer, statuses []ProcessStatus) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tPID\tUPTIME\tRESTARTS\tRECYCLES\tLAST EXIT / ERROR")
	for _, s := range statuses {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n",
			cell(s.Name), cell(s.State), pidCell(s.PID), uptimeCell(s), s.Restarts, s.Recycles, lastCell(s))
	}
	return tw.Flush()
}

func cell(s string) string {
	// a tab or newline would break the table's layout
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	return s
}

func pidCell(pid int) string {
	if pid <= 0 {
		return "-"
	}
	return strconv.Itoa(pid)
}

func uptimeCell(s ProcessStatus) string {
	if s.PID <= 0 && s.UptimeSecs <= 0 {
		return "-"
	}
	if s.UptimeSecs > 0 || s.Uptime == "" {
		return formatUptime(time.Duration(s.UptimeSecs * float64(time.Second)))
	}
	return cell(s.Uptime)
}

// formatUptime is H:MM:SS, with days in front when there are any, as in
// supervisorctl.
func formatUptime(d time.Duration) string {
	secs := int64(d / time.Second)
	if secs < 0 {
		secs = 0
	}
	days, secs := secs/86400, secs%86400
	hms := fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	switch days {
	case 0:
		return hms
	case 1:
		return "1 day, " + hms
	default:
		return fmt.Sprintf("%d days, %s", days, hms)
	}
}

func lastCell(s ProcessStatus) string {
	if s.Schedule != "" {
		return scheduleCell(s)
	}
	var parts []string
	if s.LastExit != "" {
		parts = append(parts, s.LastExit)
	}
	if s.LastError != "" && s.LastError != s.LastExit {
		parts = append(parts, s.LastError)
	}
	if s.WatchError != "" {
		parts = append(parts, "new code not started: "+s.WatchError)
	}
	if s.LastRecycle != "" {
		parts = append(parts, "last recycle: "+s.LastRecycle)
	}
	return cell(strings.Join(parts, "; "))
}
