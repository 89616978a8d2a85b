// Package sockpeer finds the processes that hold the other end of a local
// connection: for a connection a proxy opened to a server on the same
// machine, the server process that accepted it (for example the worker of
// a pre-forking app server that is answering the request). It reads what
// `ss -xp` and `ss -tp` read: the kernel's socket tables (sock_diag over
// netlink for unix sockets, /proc/net/tcp for TCP) and the open files of
// processes in /proc.
//
// It answers for unix stream sockets and loopback TCP connections on Linux;
// elsewhere, and for other connections, it reports ErrUnsupported.
package sockpeer

import (
	"errors"
	"net"
)

// ErrUnsupported: the connection's other end cannot be looked up here (not
// Linux, or neither a unix nor a TCP connection).
var ErrUnsupported = errors.New("sockpeer: the other end of this connection cannot be looked up here")

// Holders returns the processes among pids (every process when pids is
// nil) that have the other end of c open: for a connection to a listening
// socket, the processes that accepted it (usually one). An empty result
// with no error means that nobody holds it: the connection is still
// waiting in the listening socket's queue, or the other end is closed.
//
// c must be open: once it is closed its other end cannot be found.
func Holders(c net.Conn, pids []int) ([]int, error) {
	return holders(c, pids)
}
