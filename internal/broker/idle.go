package broker

import (
	"crypto/tls"
	"errors"
	"syscall"
)

// Idle connections.
//
// Most connections of an IoT fleet are idle: a device sends a few packets
// a minute, or a PINGREQ per keep-alive. What such a connection costs
// while it waits is what bounds how many one node holds, so the reader
// waits for the next packet in the cheapest way it can:
//
//  1. crypto/tls reads the socket through an idleConn, which can be told
//     not to read it (probe mode).
//  2. When the packet reader holds no bytes and a probing tls.Conn.Read
//     gets none either (crypto/tls has no decrypted bytes and no complete
//     record left: see idleConn.probeIdle), the connection is idle: what
//     comes next can only come from the socket.
//  3. An idle connection waits for the socket to become readable not
//     inside crypto/tls but in the runtime's network poller, through
//     syscall.RawConn.Read, a few frames deep, reading what arrives into a
//     pooled buffer that crypto/tls then reads from. On Linux, one idle for
//     more than hotWait gives up its goroutine altogether and is parked
//     in an epoll instance (idle_linux.go); elsewhere it waits in a fresh
//     goroutine, whose stack stays at its initial size (a goroutine parked
//     inside tls.Conn.Read needs twice that, and one that has handled a
//     PUBLISH keeps the stack it grew until a collection finds it mostly
//     unused).
//
// The read deadline (1.5 × the keep-alive) applies to the wait as to any
// read; a close wakes it. The same goes for a *tls.Conn handed to
// ServeConn over a connection of WrapListener (MQTT by ALPN on the HTTPS
// port). Where none of this is available (no syscall.RawConn, or any other
// connection, such as ServeConn's WebSocket streams) the reader simply
// reads, and waits inside the connection's Read in its goroutine.

// errNoWait is idleConn.wait's answer where waiting outside crypto/tls is
// not possible.
var errNoWait = errors.New("broker: no readiness wait on this system")

// idle reports whether nothing the client sent is buffered on this side of
// the socket (see above), so that the reader may wait for the socket
// itself. It may take one byte from crypto/tls, which the packet reader
// then gets first.
func (c *conn) idle() bool {
	ic := c.ic()
	return canWait && ic != nil && ic.tc != nil && c.r.Buffered() == 0 && ic.probeIdle()
}

// ic is the connection's idleConn, or nil if it has none (a connection
// made neither by the broker's accept loop nor over WrapListener) or its
// socket cannot be waited for (not a syscall.Conn).
func (c *conn) ic() *idleConn {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	if ic, ok := tc.NetConn().(*idleConn); ok {
		if _, ok := ic.Conn.(syscall.Conn); ok {
			return ic
		}
	}
	return nil
}
