//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// dfInfo describes the django_files handler of the Caddy under test: whether
// it is built, which Caddyfile form it accepts, and the request-buffering
// variants worth measuring in § 6.
//
// django_files (django_handler.go) always reads the whole request body before
// contacting Gunicorn: `request_buffer <size>` only decides how much is kept
// in memory before the rest is spooled to a temporary file. There is no
// option that turns buffering off; plain reverse_proxy is the "off" case. If
// one appears, name it in BENCH_DF_BUFFER_OFF (a few likely names are probed).
type dfInfo struct {
	ok       bool
	reason   string // why not, when !ok
	explicit bool   // `django_files { static ...; media ...; upstream ... }` accepted
	b        *bench
	spool    string // option that makes 20 KiB bodies spool to a file, "" if none
	off      string // option that turns buffering off, "" if none
	note     string // what the probing found, for the report
}

// block renders the handler, proxying to Gunicorn on gport, with extra
// option lines.
func (d *dfInfo) block(gport int, extra string) string {
	extra = strings.TrimSpace(extra)
	if !d.explicit {
		if extra == "" {
			return "django_files"
		}
		return "django_files {\n\t\t" + extra + "\n\t}"
	}
	p := d.b.proj
	lines := []string{
		"static /static/ " + p.Static,
		"media /media/ " + p.Media,
		fmt.Sprintf("upstream 127.0.0.1:%d", gport),
	}
	if extra != "" {
		lines = append(lines, extra)
	}
	return "django_files {\n\t\t" + strings.Join(lines, "\n\t\t") + "\n\t}"
}

// adapt returns the JSON of a Caddyfile, or an error with Caddy's message.
func (b *bench) adapt(caddyfile string) (string, error) {
	path := filepath.Join(b.work, "adapt-probe.Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile), 0o644); err != nil {
		return "", err
	}
	out, err := exec.Command(b.caddyBin, "adapt", "--config", path, "--adapter", "caddyfile").Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("%s", msg)
	}
	return string(out), nil
}

func (b *bench) detectDF() {
	d := &b.df
	d.b = b
	mods, err := exec.Command(b.caddyBin, "list-modules").Output()
	if err != nil || !strings.Contains("\n"+string(mods), "\nhttp.handlers.django_files\n") {
		d.reason = "handler not built"
		return
	}
	probe := func(extra string) (string, error) {
		return b.adapt(globalOptions(b.ports.oursAdmin, b.djangoBlock(b.ports.gunicorn, 3, false)) + b.dfSite(b.ports.df, b.ports.gunicorn, extra))
	}
	d.explicit = true
	base, err := probe("")
	if err != nil {
		d.explicit = false
		if base, err = probe(""); err != nil {
			d.reason = "does not adapt: " + firstLine(err.Error())
			return
		}
	}
	d.ok = true

	// first candidate that adapts to a config other than the default's
	pick := func(cands []string) string {
		for _, c := range cands {
			if j, err := probe(c); err == nil && j != base {
				return c
			}
		}
		return ""
	}
	offCands := []string{"request_buffering off", "buffer_requests off", "request_buffer off", "buffer off"}
	if v := os.Getenv("BENCH_DF_BUFFER_OFF"); v != "" {
		offCands = []string{v}
	}
	d.off = pick(offCands)
	d.spool = pick([]string{"request_buffer 4KiB", "request_buffer 4096"})
	var notes []string
	if d.off == "" {
		notes = append(notes, "no option turns request buffering off (tried "+strings.Join(offCands, ", ")+"); plain reverse_proxy is the unbuffered case")
	}
	if d.spool != "" {
		notes = append(notes, fmt.Sprintf("`%s` spools bodies over 4 KiB to a temporary file", d.spool))
	}
	d.note = strings.Join(notes, "; ")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
