//go:build !linux

package caddydjango

import (
	"errors"
	"net"
	"time"
)

// listenSteered needs Linux (SO_INCOMING_CPU in a SO_REUSEPORT group).
func listenSteered(net.Addr) ([]net.Listener, error) {
	return nil, errors.New("steering connections needs Linux")
}

// waitReadable does not wait off Linux: connections are handed at once.
func waitReadable(net.Conn, time.Duration) {}
