package caddydjango

import (
	"encoding/json"
	"testing"
)

// TestCaddyfileWatch: `watch` alone (or on) watches the defaults, with
// patterns those, with a block its options; `off` (as an environment
// variable may say) turns it off, block and all.
func TestCaddyfileWatch(t *testing.T) {
	for _, tc := range []struct{ name, entry, want string }{
		{"alone", "watch", `{}`},
		{"on", "watch on", `{}`},
		{"off", "watch off", ``},
		{"empty (a quoted variable unset or empty)", `watch ""`, ``},
		{"empty with a block", "watch \"\" {\n\t\t\t\tpoll\n\t\t\t}", ``},
		{"false with a block", "watch false {\n\t\t\t\tpoll\n\t\t\t}", ``},
		{"patterns", "watch **/*.py **/*.html", `{"patterns":["**/*.py","**/*.html"]}`},
		{"block", "watch **/*.py {\n\t\t\t\texclude docs/** **/tests\n\t\t\t\texclude build\n\t\t\t\tpoll 2s\n\t\t\t\tdebounce 1s\n\t\t\t}",
			`{"debounce":1000000000,"exclude":["docs/**","**/tests","build"],"method":"poll","patterns":["**/*.py"],"poll_interval":2000000000}`},
		{"poll without interval", "watch {\n\t\t\t\tpoll\n\t\t\t}", `{"method":"poll"}`},
		{"poll off", "watch {\n\t\t\t\tpoll off\n\t\t\t}", `{"method":"notify"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, entry := range []string{"gunicorn a.wsgi", "process w ./w"} {
				app, err := adaptDjango(t, "{\n\tdjango {\n\t\t"+entry+" {\n\t\t\t"+tc.entry+"\n\t\t}\n\t}\n}")
				if err != nil {
					t.Fatal(err)
				}
				e, _ := app["gunicorn"].(map[string]any)
				if e == nil {
					e = app["processes"].([]any)[0].(map[string]any)
				}
				got := ""
				if w, ok := e["watch"]; ok {
					b, _ := json.Marshal(w)
					got = string(b)
				}
				if got != tc.want {
					t.Errorf("%s: watch %s, want %s", entry, got, tc.want)
				}
			}
		})
	}
}

func TestCaddyfileWatchErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"bad pattern", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\twatch **/*.{py\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: watch: "**/*.{py" is not a valid glob pattern`},
		{"bad exclude", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\twatch {\n\t\t\t\texclude [a\n\t\t\t}\n\t\t}\n\t}\n}", `Caddyfile:5 - Error during parsing: exclude: "[a" is not a valid glob pattern`},
		{"empty exclude", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\twatch {\n\t\t\t\texclude\n\t\t\t}\n\t\t}\n\t}\n}", `Caddyfile:5 - Error during parsing: exclude needs glob patterns`},
		{"bad poll", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\twatch {\n\t\t\t\tpoll often\n\t\t\t}\n\t\t}\n\t}\n}", `Caddyfile:5 - Error during parsing: poll: "often" is not a positive duration`},
		{"bad debounce", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\twatch {\n\t\t\t\tdebounce 0s\n\t\t\t}\n\t\t}\n\t}\n}", `Caddyfile:5 - Error during parsing: debounce: "0s" must be positive`},
		{"unknown option", "{\n\tdjango {\n\t\tprocess w ./w {\n\t\t\twatch {\n\t\t\t\tignore x\n\t\t\t}\n\t\t}\n\t}\n}", `Caddyfile:5 - Error during parsing: unknown watch option "ignore" (want exclude, poll or debounce)`},
		{"on a schedule", "{\n\tdjango {\n\t\tschedule s \"@daily\" ./s {\n\t\t\twatch\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: watch is for app servers and processes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptDjango(t, tc.in)
			wantAdaptError(t, err, tc.want)
		})
	}
}
