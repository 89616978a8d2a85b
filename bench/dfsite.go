//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// dfSpool is the django_files option that makes the 20 KiB bodies of § 6
// spool to a temporary file instead of memory.
//
// django_files always reads the whole request body before contacting
// Gunicorn: `request_buffer <size>` only decides how much is kept in memory
// before the rest is spooled. No option turns buffering off; plain
// reverse_proxy is the unbuffered case.
const dfSpool = "request_buffer 4KiB"

// dfNoCache is the django_files static option that turns the memory cache
// of hashed files off (§ 1 compares with and without).
const dfNoCache = "cache_size off"

// dfInfo says whether the Caddy under test (CADDY= may name another build)
// has the django_files handler and accepts the bench's config for it.
type dfInfo struct {
	ok      bool
	reason  string // why not, when !ok
	noCache bool   // the handler has the static cache option (dfNoCache)
	b       *bench
}

// block renders the handler, proxying to Gunicorn on gport, with extra
// option lines.
func (d *dfInfo) block(gport int, extra string) string {
	p := d.b.proj
	static := "static /static/ " + p.Static
	if extra == dfNoCache {
		static += " {\n\t\t\t" + dfNoCache + "\n\t\t}"
		extra = ""
	}
	lines := []string{
		static,
		"media /media/ " + p.Media,
		fmt.Sprintf("upstream 127.0.0.1:%d", gport),
	}
	if extra = strings.TrimSpace(extra); extra != "" {
		lines = append(lines, extra)
	}
	return "django_files {\n\t\t" + strings.Join(lines, "\n\t\t") + "\n\t}"
}

// adapt returns nil when caddyfile adapts, or an error with Caddy's message.
func (b *bench) adapt(caddyfile string) error {
	path := filepath.Join(b.work, "adapt-check.Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile), 0o644); err != nil {
		return err
	}
	if _, err := exec.Command(b.caddyBin, "adapt", "--config", path, "--adapter", "caddyfile").Output(); err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return fmt.Errorf("%s", msg)
	}
	return nil
}

// detectDF checks that the Caddy under test has django_files and adapts the
// sites the bench gives it; otherwise its rows print n/a with the reason.
func (b *bench) detectDF() {
	d := &b.df
	d.b = b
	mods, err := exec.Command(b.caddyBin, "list-modules").Output()
	if err != nil || !strings.Contains("\n"+string(mods), "\nhttp.handlers.django_files\n") {
		d.reason = "handler not built"
		return
	}
	for _, extra := range []string{"", dfSpool} {
		cfg := globalOptions(b.ports.oursAdmin, b.djangoBlock(b.ports.gunicorn, 3, false)) + b.dfSite(b.ports.df, b.ports.gunicorn, extra)
		if err := b.adapt(cfg); err != nil {
			d.reason = "does not adapt: " + firstLine(err.Error())
			return
		}
	}
	d.ok = true
	d.noCache = b.adapt(globalOptions(b.ports.oursAdmin, "")+b.dfSite(b.ports.dfNoCache, b.ports.gunicorn, dfNoCache)) == nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
