//go:build linux

package sockpeer

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

func holders(c net.Conn, pids []int) ([]int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, ErrUnsupported
	}
	var ino uint64
	var err error
	switch local := c.LocalAddr().(type) {
	case *net.UnixAddr:
		var own uint64
		if own, err = socketInode(sc); err == nil {
			ino, err = unixPeer(own)
		}
	case *net.TCPAddr:
		remote, ok := c.RemoteAddr().(*net.TCPAddr)
		if !ok {
			return nil, ErrUnsupported
		}
		ino, err = tcpPeer(local, remote)
	default:
		return nil, ErrUnsupported
	}
	if err != nil || ino == 0 {
		return nil, err
	}
	return openedBy(ino, pids), nil
}

// socketInode returns the inode of the socket behind sc (as /proc shows
// it: socket:[INODE]).
func socketInode(sc syscall.Conn) (uint64, error) {
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var st unix.Stat_t
	var statErr error
	if err := raw.Control(func(fd uintptr) { statErr = unix.Fstat(int(fd), &st) }); err != nil {
		return 0, err
	}
	if statErr != nil {
		return 0, fmt.Errorf("sockpeer: fstat: %w", statErr)
	}
	return st.Ino, nil
}

// From linux/unix_diag.h.
const (
	udiagShowPeer = 0x00000004 // UDIAG_SHOW_PEER
	unixDiagPeer  = 2          // UNIX_DIAG_PEER
	// sizes of struct unix_diag_req and struct unix_diag_msg
	unixDiagReqLen = 24
	unixDiagMsgLen = 16
)

// unixPeer asks the kernel (sock_diag, as `ss -x` does) for the inode of
// the other end of the unix socket ino; 0 when it has none (closed).
func unixPeer(ino uint64) (uint64, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return 0, fmt.Errorf("sockpeer: netlink socket: %w", err)
	}
	defer unix.Close(fd)
	req := make([]byte, unix.SizeofNlMsghdr+unixDiagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req))) // nlmsg_len
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(req[8:], 1) // nlmsg_seq
	body := req[unix.SizeofNlMsghdr:]
	body[0] = unix.AF_UNIX                 // sdiag_family
	ne.PutUint32(body[4:], ^uint32(0))     // udiag_states: any
	ne.PutUint32(body[8:], uint32(ino))    // udiag_ino
	ne.PutUint32(body[12:], udiagShowPeer) // udiag_show
	ne.PutUint32(body[16:], ^uint32(0))    // udiag_cookie: none
	ne.PutUint32(body[20:], ^uint32(0))
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("sockpeer: sock_diag request: %w", err)
	}
	buf := make([]byte, 8192)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, fmt.Errorf("sockpeer: sock_diag answer: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return 0, fmt.Errorf("sockpeer: sock_diag answer: %w", err)
	}
	for _, m := range msgs {
		switch m.Header.Type {
		case unix.NLMSG_ERROR:
			if len(m.Data) < 4 {
				return 0, errors.New("sockpeer: short sock_diag error")
			}
			if errno := -int32(ne.Uint32(m.Data)); errno != 0 {
				// our own socket exists: ENOENT means no unix_diag here
				return 0, fmt.Errorf("sockpeer: sock_diag: %w", syscall.Errno(errno))
			}
		case unix.SOCK_DIAG_BY_FAMILY:
			if len(m.Data) < unixDiagMsgLen {
				return 0, errors.New("sockpeer: short sock_diag answer")
			}
			for attrs := m.Data[unixDiagMsgLen:]; len(attrs) >= 4; {
				l, typ := int(ne.Uint16(attrs)), ne.Uint16(attrs[2:])
				if l < 4 || l > len(attrs) {
					break
				}
				if typ == unixDiagPeer && l >= 8 {
					return uint64(ne.Uint32(attrs[4:])), nil
				}
				attrs = attrs[min((l+3)&^3, len(attrs)):]
			}
			return 0, nil // no peer: the other end is closed
		}
	}
	return 0, errors.New("sockpeer: no sock_diag answer")
}

// tcpPeer finds in /proc/net/tcp (or tcp6) the socket at the other end of
// the local connection local→remote (its local address is remote and its
// remote address local) and returns its inode: 0 when there is none, or
// while it waits in the listening socket's queue (not accepted yet).
func tcpPeer(local, remote *net.TCPAddr) (uint64, error) {
	file, want := "/proc/net/tcp", [2]string{procAddr(remote), procAddr(local)}
	if local.IP.To4() == nil {
		file = "/proc/net/tcp6"
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("sockpeer: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[1] != want[0] || f[2] != want[1] {
			continue
		}
		return strconv.ParseUint(f[9], 10, 64)
	}
	return 0, nil
}

// procAddr writes an address as /proc/net/tcp does: the address's 32-bit
// words in the machine's byte order, in hex, then the port.
func procAddr(a *net.TCPAddr) string {
	ip := a.IP.To4()
	if ip == nil {
		ip = a.IP.To16()
	}
	var s strings.Builder
	for i := 0; i+4 <= len(ip); i += 4 {
		fmt.Fprintf(&s, "%08X", binary.NativeEndian.Uint32(ip[i:]))
	}
	fmt.Fprintf(&s, ":%04X", a.Port)
	return s.String()
}

// openedBy returns the processes among pids (all when nil) with an open
// file descriptor on socket inode ino.
func openedBy(ino uint64, pids []int) []int {
	if pids == nil {
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			if pid, err := strconv.Atoi(filepath.Base(d)); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	target := "socket:[" + strconv.FormatUint(ino, 10) + "]"
	var out []int
	for _, pid := range pids {
		dir := "/proc/" + strconv.Itoa(pid) + "/fd"
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, fd := range fds {
			if link, err := os.Readlink(dir + "/" + fd.Name()); err == nil && link == target {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}
