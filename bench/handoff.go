package main

import "fmt"

// handoffOption is the global option that puts the plugin's django_handoff
// listener wrapper on the listener at 127.0.0.1:port (the sites `bind
// 127.0.0.1`; config reloads lose no connection there; §4 compares it with
// the plain Caddy controls).
func handoffOption(port int) string {
	return fmt.Sprintf("\tservers 127.0.0.1:%d {\n\t\tlistener_wrappers {\n\t\t\tdjango_handoff\n\t\t\ttls\n\t\t\tdjango_handoff\n\t\t}\n\t}\n", port)
}
