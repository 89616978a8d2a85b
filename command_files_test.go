package caddydjango

import (
	"strings"
	"testing"
)

func TestFormatFilesTable(t *testing.T) {
	fs := FilesStatus{
		Settings: &SettingsStatus{Python: "/usr/bin/python3", Settings: &DjangoSettings{SettingsModule: "config.settings", Django: "4.2.21"}},
		Handlers: []*FilesReport{{
			Static:    &FilesPaths{Served: true, URL: "/assets/", URLFrom: fromSettings, Dir: "/srv/collected", DirFrom: fromSettings},
			Media:     &FilesPaths{URL: "https://cdn.example.com/m/", URLFrom: fromSettings, Reason: "MEDIA_URL is absolute: served elsewhere"},
			RootFiles: &FilesPaths{Served: true, URL: "/", URLFrom: fromCaddyfile, Dir: "/app/public", DirFrom: fromCaddyfile},
		}},
	}
	var b strings.Builder
	if err := formatFilesTable(&b, fs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"static      -    /assets/",
		"/srv/collected",
		"settings, settings",
		"not served: MEDIA_URL is absolute: served elsewhere",
		"root files  -    /",
		"caddyfile, caddyfile",
		"settings: config.settings (Django 4.2.21) read with /usr/bin/python3",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	for from, want := range map[string]string{
		"config/wsgi.py": "settings: config.settings (DJANGO_SETTINGS_MODULE from config/wsgi.py; Django 4.2.21) read with /usr/bin/python3",
		"environment":    "settings: config.settings (DJANGO_SETTINGS_MODULE from the environment; Django 4.2.21)",
	} {
		fs.Settings.Settings.SettingsModuleFrom = from
		b.Reset()
		_ = formatFilesTable(&b, fs)
		if !strings.Contains(b.String(), want) {
			t.Errorf("settings line, module from %s, lacks %q:\n%s", from, want, b.String())
		}
	}
	fs.Settings = &SettingsStatus{Python: "python3", Error: "ModuleNotFoundError: No module named 'django'"}
	b.Reset()
	_ = formatFilesTable(&b, fs)
	if !strings.Contains(b.String(), "cannot be read with python3 (ModuleNotFoundError: No module named 'django'); the defaults are used") {
		t.Errorf("settings error line:\n%s", b.String())
	}
}
