package wsmqtt

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// conn is an MQTT byte stream over a WebSocket connection, as the broker
// wants it (broker.ServeConn): binary messages carry the MQTT bytes, a
// packet may span messages and a message may hold several packets
// ([MQTT-6.0.0-2]); every Write is one binary message.
//
// websocket.NetConn is not used because of how it does deadlines and Close:
// a deadline that passes during a Read closes the connection (so MQTT 5
// clients would not get DISCONNECT 0x8D on a keep-alive timeout), and
// Close waits for the peer's close frame for up to ten seconds. Here
// deadlines are those of the underlying connection (the hijacked TLS
// connection), which interrupt a Read or Write with a timeout error and
// leave the WebSocket usable, and Close closes at once, without a close
// handshake, as the broker closes a TCP connection under TLS.
//
// Read is called by one goroutine at a time (the broker's reader); Write
// may run concurrently with it (the library serialises frames, including
// the pongs it answers pings with while reading).
type conn struct {
	ws  *websocket.Conn
	raw net.Conn // the hijacked connection: deadlines, addresses, close

	r io.Reader // the message being read; nil between messages (reader only)

	mu  sync.Mutex
	wdl time.Time // write deadline; guarded by mu
}

// errNotBinary ends a connection whose client sent a text message.
var errNotBinary = errors.New("wsmqtt: a text message: MQTT needs binary WebSocket messages")

func newConn(ws *websocket.Conn, raw net.Conn, readLimit int64) *conn {
	ws.SetReadLimit(readLimit)
	return &conn{ws: ws, raw: raw}
}

// Read reads the MQTT stream across binary messages. A text message ends
// the connection ([MQTT-6.0.0-1]: close frame 1003); a close frame with
// status 1000 or 1001 reads as io.EOF.
func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if c.r == nil {
			typ, r, err := c.ws.Reader(context.Background())
			if err != nil {
				switch websocket.CloseStatus(err) {
				case websocket.StatusNormalClosure, websocket.StatusGoingAway:
					return 0, io.EOF
				}
				return 0, err
			}
			if typ != websocket.MessageBinary {
				c.closeWith(websocket.StatusUnsupportedData, "MQTT needs binary messages")
				return 0, errNotBinary
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n == 0 {
				continue // an empty message, or the end of one
			}
			return n, nil
		}
		return n, err
	}
}

// Write sends p as one binary message, within the write deadline. The
// deadline is set on the underlying connection for the write only, so
// that the pongs the library sends between writes do not meet a deadline
// left over from the last one.
func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	dl := c.wdl
	c.mu.Unlock()
	if !dl.IsZero() {
		_ = c.raw.SetWriteDeadline(dl)
		defer func() { _ = c.raw.SetWriteDeadline(time.Time{}) }()
	}
	if err := c.ws.Write(context.Background(), websocket.MessageBinary, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close closes the connection at once: the TCP connection under TLS
// first, so that no close_notify or close frame waits for a client that
// does not read, then the WebSocket's own state.
func (c *conn) Close() error {
	if nc, ok := c.raw.(interface{ NetConn() net.Conn }); ok {
		_ = nc.NetConn().Close()
	}
	return c.ws.CloseNow()
}

// closeWith sends a close frame with code and reason, then closes. The
// library bounds the frame's write; the reader calls it, so waiting for
// the peer's answer is not needed.
func (c *conn) closeWith(code websocket.StatusCode, reason string) {
	_ = c.raw.SetWriteDeadline(time.Now().Add(time.Second))
	_ = c.ws.Close(code, reason)
}

func (c *conn) LocalAddr() net.Addr  { return c.raw.LocalAddr() }
func (c *conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets both deadlines.
func (c *conn) SetDeadline(t time.Time) error {
	_ = c.SetWriteDeadline(t)
	return c.SetReadDeadline(t)
}

// SetReadDeadline bounds reads of the underlying connection: a Read that
// passes it returns an error whose Timeout is true (the broker's
// keep-alive).
func (c *conn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// SetWriteDeadline bounds the Writes from now on and the one in progress.
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.mu.Unlock()
	return c.raw.SetWriteDeadline(t)
}

var _ net.Conn = (*conn)(nil)
