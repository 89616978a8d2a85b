package main

import "fmt"

// handoffOption is the global option that puts the plugin's django_handoff
// listener wrapper on the listener at port (config reloads lose no
// connection there; §4 compares it with the plain Caddy controls).
func handoffOption(port int) string {
	return fmt.Sprintf("\tservers :%d {\n\t\tlistener_wrappers {\n\t\t\tdjango_handoff\n\t\t\ttls\n\t\t}\n\t}\n", port)
}
