package caddydjango

import (
	"fmt"
	"strconv"
	"strings"
)

// parseBind splits Gunicorn's bind syntax into a Go network and address.
func parseBind(bind string) (network, addr string) {
	if bind == "" {
		bind = defaultBind
	}
	if rest, ok := strings.CutPrefix(bind, "unix:"); ok {
		return "unix", strings.TrimPrefix(rest, "//")
	}
	return "tcp", strings.TrimPrefix(bind, "tcp://")
}

func splitHostPort(addr string) (string, int, error) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("want HOST:PORT or unix:PATH")
	}
	port, err := strconv.Atoi(addr[i+1:])
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number from 0 to 65535", addr[i+1:])
	}
	return addr[:i], port, nil
}

func bindNetwork(bind string) (network, addr string) {
	for i := 0; i < len(bind); i++ {
		if bind[i] == ':' {
			return bind[:i], bind[i+1:]
		}
	}
	return "tcp", bind
}
