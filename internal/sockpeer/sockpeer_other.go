//go:build !linux

package sockpeer

import "net"

func holders(net.Conn, []int) ([]int, error) { return nil, ErrUnsupported }
