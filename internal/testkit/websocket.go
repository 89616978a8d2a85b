package testkit

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// WS is a minimal RFC 6455 client: masked text frames, no fragmentation;
// enough to open a websocket, see it stay open and close it.
type WS struct {
	net.Conn
	R *bufio.Reader
}

// DialWebsocket opens a websocket to path at addr (host:port) and checks
// the server's handshake.
func DialWebsocket(addr, path string, timeout time.Duration) (*WS, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	k := base64.StdEncoding.EncodeToString(key)
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, addr, k); err != nil {
		conn.Close()
		return nil, err
	}
	r := bufio.NewReaderSize(conn, 256)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	sum := sha1.Sum([]byte(k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		conn.Close()
		return nil, fmt.Errorf("handshake: %s %v", resp.Status, resp.Header)
	}
	_ = conn.SetDeadline(time.Time{})
	return &WS{Conn: conn, R: r}, nil
}

// Opcodes of the frames used here.
const (
	OpText  = 0x1
	OpClose = 0x8
	OpPing  = 0x9
	OpPong  = 0xA
)

// Frame is a masked client frame, final, with opcode and payload (< 126
// bytes).
func Frame(opcode byte, payload []byte) []byte {
	mask := [4]byte{1, 2, 3, 4}
	frame := []byte{0x80 | opcode, 0x80 | byte(len(payload))}
	frame = append(frame, mask[:]...)
	for i, c := range payload {
		frame = append(frame, c^mask[i%4])
	}
	return frame
}

// TextFrame is a masked client text frame (msg < 126 bytes).
func TextFrame(msg string) []byte { return Frame(OpText, []byte(msg)) }

// ReadFrame reads one unmasked server frame: its opcode and payload.
func ReadFrame(r *bufio.Reader) (opcode byte, payload []byte, err error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	if head[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("masked server frame % x", head)
	}
	n := uint64(head[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(r, payload)
	return head[0] & 0x0f, payload, err
}

// Echo sends msg (< 126 bytes) and reads one frame back: an error unless
// it is the same text (a close frame, or the connection closed, says the
// websocket is gone). A ping from the server (uvicorn sends one every 20 s
// and closes a websocket that does not answer) is answered with a pong on
// the way.
func (ws *WS) Echo(msg string, timeout time.Duration) error {
	_ = ws.SetDeadline(time.Now().Add(timeout))
	defer ws.SetDeadline(time.Time{})
	if _, err := ws.Write(TextFrame(msg)); err != nil {
		return fmt.Errorf("websocket write (%s): %v", msg, err)
	}
	op, payload, err := ReadFrame(ws.R)
	for err == nil && op == OpPing && len(payload) < 126 {
		if _, err = ws.Write(Frame(OpPong, payload)); err != nil {
			return fmt.Errorf("websocket pong (%s): %v", msg, err)
		}
		op, payload, err = ReadFrame(ws.R)
	}
	switch {
	case err != nil:
		return fmt.Errorf("websocket closed (%s): %v", msg, err)
	case op == OpClose:
		return fmt.Errorf("websocket closed by the server (%s): close frame %x", msg, payload)
	case string(payload) != msg:
		return fmt.Errorf("websocket echoed %q, want %q", payload, msg)
	}
	return nil
}
