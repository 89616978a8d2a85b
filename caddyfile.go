package caddydjango

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/caddy-django/caddy-django/internal/clusterlock"
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("django", parseGlobalDjango)
}

// parseGlobalDjango sets up the `django` app from the global options block.
func parseGlobalDjango(d *caddyfile.Dispenser, existing any) (any, error) {
	if existing != nil {
		return nil, d.Err("the django global option may appear only once")
	}
	app := new(App)
	if err := app.UnmarshalCaddyfile(d); err != nil {
		return nil, err
	}
	return httpcaddyfile.App{Name: "django", Value: caddyconfig.JSON(app, nil)}, nil
}

// UnmarshalCaddyfile sets up the app from Caddyfile tokens. Syntax:
//
//	django {
//		root <dir>
//		env <key> <value>
//		env_file <path>
//		env_from_files [<name>|<prefix>*...]
//		python <interpreter>
//		release <command> [<args...>] [{
//			user <user>
//			env <key> <value>
//			dir <dir>
//			timeout <duration>
//			enabled [!]<value> [is <word>...]
//			if|unless <command> [<args...>]
//		}]
//		release_timeout <duration>
//		lock postgres://…|file:<dir>
//		drain <duration>
//		gunicorn|uvicorn|hypercorn|daphne|uwsgi <app> {
//			name <name>
//			command <launcher...>
//			bind <host:port|unix:path>
//			workers <n>|auto
//			args <server args...>
//			ready_path <path>
//			ready_timeout <duration>
//			<process options>
//		}
//		process <name> <command> [<args...>] {
//			before_release
//			ready tcp <host:port>|unix <path>|http <url>
//			<process options>
//		}
//		schedule <name> <cron spec> <command> [<args...>] {
//			timeout, once, env, dir, user, enabled, stop_signal, stop_timeout
//		}
//	}
//
// Process options: autorestart always|unexpected|never, exitcodes <codes...>,
// startsecs <duration>, startretries <n>, backoff <duration>, backoff_max
// <duration>, stop_signal <signal>, stop_timeout <duration>, priority <n>,
// replicas <n>|auto, env <key> <value>, dir <dir>, user <user>, enabled
// [!]<value> [is <word>...] (conditions.go), essential, watch [<patterns...>]
// [{ … }] (caddyfile_watch.go), max_memory <size>|<percent>.
func (a *App) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume option name
	if d.NextArg() {
		return d.Errf("django takes no arguments on its first line, got %q; put options in a { } block", d.Val())
	}
	names := map[string]bool{}
	binds := map[bindAddr]string{}
	for d.NextBlock(0) {
		switch opt := d.Val(); opt {
		case "root":
			if err := oneArg(d, &a.Root); err != nil {
				return err
			}
		case "env":
			if err := parseEnv(d, &a.Env); err != nil {
				return err
			}
		case "env_file":
			if err := oneArg(d, &a.EnvFile); err != nil {
				return err
			}
		case "env_from_files":
			if err := a.unmarshalEnvFromFiles(d); err != nil {
				return err
			}
		case "python":
			if err := oneArg(d, &a.Python); err != nil {
				return err
			}
		case "release":
			rc, err := unmarshalRelease(d)
			if err != nil {
				return err
			}
			a.Release = append(a.Release, rc)
		case "release_timeout":
			if err := durationArg(d, &a.ReleaseTimeout, 0); err != nil {
				return err
			}
		case "lock":
			if err := oneArg(d, &a.Lock); err != nil {
				return err
			}
			if !strings.Contains(a.Lock, "{") { // else checked once expanded, in Provision
				if _, err := clusterlock.Open(a.Lock, "/", ""); err != nil {
					return d.Errf("lock: %v", err)
				}
			}
		case "drain":
			var dur caddy.Duration
			if err := durationArg(d, &dur, 0); err != nil {
				return err
			}
			a.Drain = &dur
		case "gunicorn", "uvicorn", "hypercorn", "daphne", "uwsgi":
			if err := a.unmarshalAppServer(d, opt, names, binds); err != nil {
				return err
			}
		case "process":
			p := new(ProcessConfig)
			if err := p.UnmarshalCaddyfile(d.NewFromNextSegment()); err != nil {
				return err
			}
			if p.Name == "release" {
				return d.Err(`process name "release" is reserved (release commands log as django.release)`)
			}
			if p.Name == gunicornName || names[p.Name] {
				return d.Errf("process name %q is already used; names must be unique", p.Name)
			}
			names[p.Name] = true
			a.Processes = append(a.Processes, p)
		case "schedule":
			c := new(ScheduleConfig)
			if err := c.UnmarshalCaddyfile(d.NewFromNextSegment()); err != nil {
				return err
			}
			if c.Name == "release" || c.Name == gunicornName || names[c.Name] {
				return d.Errf("schedule name %q is already used or reserved; names must be unique", c.Name)
			}
			names[c.Name] = true
			a.Schedules = append(a.Schedules, c)
		default:
			return d.Errf("unknown django option %q (want root, env, env_file, env_from_files, python, release, release_timeout, lock, drain, gunicorn, uvicorn, hypercorn, daphne, uwsgi, process or schedule)", opt)
		}
	}
	return nil
}

// unmarshalAppServer parses an app server segment (word: gunicorn,
// uvicorn, …): the first unnamed gunicorn is the `gunicorn` field (as
// before app servers had names), the others are app_servers.
func (a *App) unmarshalAppServer(d *caddyfile.Dispenser, word string, names map[string]bool, binds map[bindAddr]string) error {
	g := new(AppServerConfig)
	if err := g.UnmarshalCaddyfile(d.NewFromNextSegment()); err != nil {
		return err
	}
	g.Server = word
	name := g.serverName()
	if names[name] {
		return d.Errf("%s: name %q is already used; names must be unique (set `name`)", word, name)
	}
	bind, _ := parseBind(g.Bind) // checked by bind's parser
	if k := serverKinds[word]; k != nil && k.tcpOnly && bind.network == "unix" {
		return d.Errf("%s %q: %v", word, name, k.unixBindError(g.Bind))
	}
	if other, ok := binds[bind]; ok {
		return d.Errf("%s %q: bind %s is already used by %q; binds must be unique (set `bind`)", word, name, bind.upstream(), other)
	}
	names[name], binds[bind] = true, name
	if word == gunicornName && name == gunicornName && a.Gunicorn == nil && len(a.AppServers) == 0 {
		g.Server, g.Name = "", ""
		a.Gunicorn = g
		return nil
	}
	a.AppServers = append(a.AppServers, g)
	return nil
}

// UnmarshalCaddyfile sets up an app server from its segment (`gunicorn`,
// `uvicorn`, … <app> { … }) of the
// django option (syntax above).
func (g *GunicornConfig) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "gunicorn", "uvicorn", …
	word := d.Val()
	if !d.NextArg() {
		if word == gunicornName {
			return d.Err("gunicorn needs the WSGI application, e.g. gunicorn config.wsgi:application")
		}
		return d.Errf("%s needs the application, e.g. %s config.asgi:application", word, word)
	}
	g.App = d.Val()
	if d.NextArg() {
		return d.Errf("%s takes one application, got extra %q; put %s arguments in `args`", word, d.Val(), word)
	}
	for d.NextBlock(0) {
		switch opt := d.Val(); opt {
		case "name":
			if err := oneArg(d, &g.Name); err != nil {
				return err
			}
			if !processNameRE.MatchString(g.Name) || g.Name == "release" {
				return d.Errf("%s name %q: use letters, digits, '-' and '_'", word, g.Name)
			}
		case "command":
			g.Command = d.RemainingArgs()
			if len(g.Command) == 0 {
				return d.Errf("command needs a program, e.g. command uv run --no-sync %s", word)
			}
		case "bind":
			if err := oneArg(d, &g.Bind); err != nil {
				return err
			}
			if _, err := parseBind(g.Bind); err != nil {
				return d.WrapErr(err)
			}
		case "workers":
			if err := countArg(d, &g.Workers, 1); err != nil {
				return err
			}
		case "args":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return missingValueErr(d, opt, "needs at least one argument")
			}
			g.Args = append(g.Args, args...)
		case "ready_path":
			if err := oneArg(d, &g.ReadyPath); err != nil {
				return err
			}
			if !strings.HasPrefix(g.ReadyPath, "/") {
				return d.Errf("ready_path %q must start with /", g.ReadyPath)
			}
		case "ready_timeout":
			if err := durationArg(d, &g.ReadyTimeout, 0); err != nil {
				return err
			}
		case "before_release", "ready":
			return d.Errf("%s is for processes, not %s (release commands run before the app server starts; it is ready once it answers HTTP)", opt, word)
		default:
			if err := g.ProcessOptions.unmarshalOption(d, word); err != nil {
				return err
			}
		}
	}
	return nil
}

// UnmarshalCaddyfile sets up a process from a `process` segment of the
// django option (syntax above).
func (p *ProcessConfig) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "process"
	if !d.NextArg() {
		return d.Err("process needs a name and a command, e.g. process worker ./manage.py db_worker")
	}
	p.Name = d.Val()
	if !processNameRE.MatchString(p.Name) {
		return d.Errf("process name %q: use letters, digits, '-' and '_'", p.Name)
	}
	p.Command = d.RemainingArgs()
	if len(p.Command) == 0 {
		return d.Errf("process %s needs a command, e.g. process %s ./manage.py db_worker", p.Name, p.Name)
	}
	for d.NextBlock(0) {
		if err := p.unmarshalReadiness(d); err != errNotReadiness {
			if err != nil {
				return err
			}
			continue
		}
		if err := p.ProcessOptions.unmarshalOption(d, ""); err != nil {
			return err
		}
	}
	return nil
}

// unmarshalOption parses one process option at the dispenser's cursor;
// server is the app server's word (gunicorn, uvicorn, …), "" for a process.
func (o *ProcessOptions) unmarshalOption(d *caddyfile.Dispenser, server string) error {
	switch opt := d.Val(); opt {
	case "autorestart":
		if err := oneArg(d, &o.Autorestart); err != nil {
			return err
		}
		switch o.Autorestart {
		case "always", "unexpected", "never":
		case "true":
			o.Autorestart = "always"
		case "false":
			o.Autorestart = "never"
		default:
			return d.Errf("autorestart %q: want always, unexpected or never", o.Autorestart)
		}
	case "exitcodes":
		args := d.RemainingArgs()
		if len(args) == 0 {
			return d.Err("exitcodes needs at least one exit code, e.g. exitcodes 0 2")
		}
		for _, arg := range args {
			for _, part := range strings.Split(arg, ",") {
				if part == "" {
					continue
				}
				n, err := strconv.Atoi(part)
				if err != nil || n < 0 || n > 255 {
					return d.Errf("exitcodes: %q is not an exit code from 0 to 255", part)
				}
				o.ExitCodes = append(o.ExitCodes, n)
			}
		}
	case "startsecs":
		var dur caddy.Duration
		if err := durationArg(d, &dur, 0); err != nil {
			return err
		}
		o.StartSecs = &dur
	case "startretries":
		var n int
		if err := intArg(d, &n, 0); err != nil {
			return err
		}
		o.StartRetries = &n
	case "backoff":
		if err := durationArg(d, &o.Backoff, 0); err != nil {
			return err
		}
	case "backoff_max":
		if err := durationArg(d, &o.BackoffMax, 0); err != nil {
			return err
		}
	case "stop_signal":
		if err := oneArg(d, &o.StopSignal); err != nil {
			return err
		}
		if _, err := parseSignal(o.StopSignal); err != nil {
			return d.Errf("stop_signal: %v", err)
		}
	case "stop_timeout":
		if err := durationArg(d, &o.StopTimeout, 0); err != nil {
			return err
		}
	case "priority":
		var n int
		if err := intArg(d, &n, -1<<31); err != nil {
			return err
		}
		o.Priority = &n
	case "replicas":
		if server != "" {
			return d.Err(replicasUnsupported(server))
		}
		if err := countArg(d, &o.Replicas, 0); err != nil {
			return err
		}
	case "env":
		return parseEnv(d, &o.Env)
	case "dir":
		return oneArg(d, &o.Dir)
	case "user":
		return oneArg(d, &o.User)
	case "enabled":
		on, err := enabledArg(d)
		if err != nil {
			return err
		}
		o.Enabled = &on
	case "essential":
		if d.NextArg() {
			switch d.Val() {
			case "true", "on", "yes":
			case "false", "off", "no":
				return nil
			default:
				return d.Errf("essential takes no argument (or true/false), got %q", d.Val())
			}
			if d.NextArg() {
				return d.ArgErr()
			}
		}
		o.Essential = true
	case "watch":
		return o.unmarshalWatch(d)
	case "max_memory":
		_, v, err := optionArg(d)
		if err != nil {
			return err
		}
		if _, err := parseMaxMemory(v); err != nil {
			return d.Err(err.Error())
		}
		o.MaxMemory = v
	default:
		what := "process"
		extra := "before_release, ready, "
		if server != "" {
			what, extra = server, "name, command, bind, workers, args, ready_path, ready_timeout, "
		}
		return d.Errf("unknown %s option %q (want %sautorestart, exitcodes, startsecs, startretries, backoff, backoff_max, stop_signal, stop_timeout, priority, replicas, env, dir, user, enabled, essential, watch or max_memory)", what, opt, extra)
	}
	return nil
}

func parseEnv(d *caddyfile.Dispenser, dst *map[string]string) error {
	args := d.RemainingArgs()
	if len(args) == 1 {
		return missingValueErr(d, "env", fmt.Sprintf(`needs a name and a value: %s has none (write "{$VAR}" in quotes to pass an empty value)`, args[0]))
	}
	if len(args) != 2 {
		return d.Err("env needs a name and a value, e.g. env DJANGO_SETTINGS_MODULE config.settings")
	}
	if args[0] == "" || strings.ContainsAny(args[0], "= \t") {
		return d.Errf("env: %q is not a valid variable name", args[0])
	}
	if *dst == nil {
		*dst = map[string]string{}
	}
	(*dst)[args[0]] = args[1]
	return nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*App)(nil)
	_ caddyfile.Unmarshaler = (*GunicornConfig)(nil)
	_ caddyfile.Unmarshaler = (*ProcessConfig)(nil)
)
