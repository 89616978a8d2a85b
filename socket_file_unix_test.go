//go:build unix

package caddydjango

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFileOfLeavesTheSocketNonBlocking: starting a child with the socket
// does not put the socket in blocking mode for the processes that serve it
// already (an asyncio worker would block in accept() with its event loop
// stopped; TestWorkersOutliveTheirMaster shows what users see).
func TestFileOfLeavesTheSocketNonBlocking(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "s")
			}
			ln, err := net.Listen(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			f, err := fileOf(ln)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("/bin/sh", "-c", "exit 0")
			cmd.ExtraFiles = []*os.File{f}
			if err := cmd.Run(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			// the flag belongs to the open file description, which the
			// listener shares with every duplicate
			raw, err := ln.(syscall.Conn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var flags int
			if err := raw.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) }); err != nil {
				t.Fatal(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if flags&unix.O_NONBLOCK == 0 {
				t.Error("the socket is in blocking mode after a child was started with it")
			}
		})
	}
}
