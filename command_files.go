package caddydjango

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// `caddy django files`, and the files section of `caddy django status`: the
// static and media paths each django_files handler serves, where each came
// from (caddyfile, settings, default), and the reading of the project's
// settings (GET /django/files).

func filesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "files",
		Short: "Shows the static and media paths in effect and where each came from",
		Long: `
Prints, for each django_files handler, the URL prefix and directory it serves
static files and media from, and where each came from: the Caddyfile, the
project's settings (STATIC_URL, STATIC_ROOT, MEDIA_URL, MEDIA_ROOT, read with
the project's Python when Caddy starts and on each deploy) or the defaults;
then the settings module, Django version and interpreter, or why the
settings could not be read. With --json, prints the admin API's JSON.
`,
		Args: argsNamed(0),
		RunE: func(c *cobra.Command, _ []string) error {
			addr, err := adminAddress(c)
			if err != nil {
				return err
			}
			body, err := adminRequest(addr, http.MethodGet, "/django/files")
			if err != nil {
				return err
			}
			if raw, _ := c.Flags().GetBool("json"); raw {
				_, err := c.OutOrStdout().Write(body)
				return err
			}
			var fs FilesStatus
			if err := json.Unmarshal(body, &fs); err != nil {
				return fmt.Errorf("unexpected answer from the admin API: %v", err)
			}
			return formatFilesTable(c.OutOrStdout(), fs)
		},
	}
}

// printFilesSection follows the status table with the files table, when
// the admin API has it (an older Caddy does not) and a django_files
// handler uses the app.
func printFilesSection(c *cobra.Command) {
	addr, err := adminAddress(c)
	if err != nil {
		return
	}
	body, err := adminRequest(addr, http.MethodGet, "/django/files")
	var fs FilesStatus
	if err != nil || json.Unmarshal(body, &fs) != nil || len(fs.Handlers) == 0 {
		return
	}
	fmt.Fprintln(c.OutOrStdout())
	_ = formatFilesTable(c.OutOrStdout(), fs)
}

// formatFilesTable writes fs as a table, then one line about the settings.
func formatFilesTable(w io.Writer, fs FilesStatus) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "FILES\tAPP\tURL\tDIR\tFROM (URL, DIR)")
	for _, h := range fs.Handlers {
		for _, k := range []struct {
			name string
			p    *FilesPaths
		}{{"static", h.Static}, {"media", h.Media}, {"root files", h.RootFiles}} {
			if k.p == nil {
				continue
			}
			dir := k.p.Dir
			if k.p.Bucket != "" {
				dir = k.p.Bucket
				if k.p.Endpoint != "" {
					dir += " at " + k.p.Endpoint
				}
			}
			if k.p.DirFrom == fromFinders {
				dir = "finders: the directories below"
			}
			if !k.p.Served {
				dir = "not served: " + k.p.Reason
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s, %s\n", k.name, cell(h.App), cell(k.p.URL), cell(dir), cell(k.p.URLFrom), cell(k.p.DirFrom))
			for _, f := range finderRows(k.p) {
				fmt.Fprintf(tw, "  finder\t%s\t%s\t%s\t%s\n", cell(h.App), cell(f.Prefix), cell(f.Dir), cell(f.From))
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, settingsLine(fs.Settings))
	return err
}

// settingsLine says which settings were read, or why they could not be.
func settingsLine(st *SettingsStatus) string {
	switch {
	case st == nil:
		return "settings: not read yet"
	case st.Error != "" && st.Settings != nil:
		return fmt.Sprintf("settings: cannot be read with %s (%s); the previous reading is used", st.Python, st.Error)
	case st.Error != "":
		return fmt.Sprintf("settings: cannot be read with %s (%s); the defaults are used", st.Python, st.Error)
	}
	s := st.Settings
	line := fmt.Sprintf("settings: %s (Django %s) read with %s", s.SettingsModule, s.Django, st.Python)
	if from := s.SettingsModuleFrom; from != "" {
		if from == "environment" {
			from = "the environment"
		}
		line = fmt.Sprintf("settings: %s (DJANGO_SETTINGS_MODULE from %s; Django %s) read with %s",
			s.SettingsModule, from, s.Django, st.Python)
	}
	if s.StaticStorage != "" {
		line += "; staticfiles storage " + s.StaticStorage
	}
	return line
}
