package broker

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
)

// idleConn is the net.Conn under a connection's crypto/tls server: the TCP
// connection, plus what the reader needs to wait for an idle connection
// outside crypto/tls (see idle.go).
//
//   - In probe mode, Read returns errWouldBlock instead of reading the
//     socket, so that a tls.Conn.Read tells without blocking whether
//     crypto/tls can produce a byte from what it holds.
//   - A wait (idle_wait_unix.go) reads the socket when it becomes readable
//     into a stash, a pooled buffer, that the following Reads hand to
//     crypto/tls; it is given back as soon as it is empty.
//
// Reads (by crypto/tls, under its input lock), probes and waits all run on
// the connection's reader goroutine, or the handshake's, one at a time;
// Close and Write may run concurrently with them.
type idleConn struct {
	net.Conn // the TCP connection

	tc *tls.Conn // the TLS connection over this one

	// stash holds socket bytes a wait read, (*stash)[r:w]; nil when there
	// are none.
	stash *[]byte
	r, w  int
	// err is the socket's read error (io.EOF at its end) met by a wait,
	// returned once the stash is drained.
	err error

	// probe makes Read return errWouldBlock rather than read the socket.
	probe bool
	// peeked is a byte a probe took from crypto/tls, owed to the packet
	// reader (pb[0]); perr an error it met, owed likewise.
	peeked bool
	pb     [1]byte
	perr   error

	park parkState // the poller's bookkeeping (idle_linux.go), if any
}

// stashSize is the most a wait reads at once: a TLS record of the largest
// size (2^14 bytes of plaintext and its overhead) takes two reads at most.
const stashSize = 16 << 10

// stashes are the buffers waits read the socket into.
var stashes = sync.Pool{New: func() any { b := make([]byte, stashSize); return &b }}

// errWouldBlock is what a probing Read returns instead of reading the
// socket. It is a temporary net.Error, as an expired read deadline's is,
// which crypto/tls returns without failing the connection (net/http
// relies on the same to abort a background read).
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "broker: read would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// newIdleConn wraps an accepted TCP connection for tls.Server (the accept
// loop's, WrapListener's); an idleConn is returned as it is.
func newIdleConn(nc net.Conn) *idleConn {
	if ic, ok := nc.(*idleConn); ok {
		return ic
	}
	return &idleConn{Conn: nc}
}

// Read hands crypto/tls the stash if there is one, else reads the socket
// (unless probing).
func (ic *idleConn) Read(p []byte) (int, error) {
	switch {
	case len(p) == 0:
		return 0, nil
	case ic.stash != nil:
		n := copy(p, (*ic.stash)[ic.r:ic.w])
		ic.r += n
		if ic.r == ic.w {
			stashes.Put(ic.stash)
			ic.stash, ic.r, ic.w = nil, 0, 0
		}
		return n, nil
	case ic.err != nil:
		return 0, ic.err
	case ic.probe:
		return 0, errWouldBlock
	}
	return ic.Conn.Read(p)
}

// Close closes the TCP connection and wakes a reader parked by the poller,
// if any, so that it sees the close.
func (ic *idleConn) Close() error {
	err := ic.Conn.Close()
	ic.unpark()
	return err
}

// probeIdle reports whether crypto/tls holds nothing it can decrypt into
// a byte: no decrypted input and no complete record, nor stashed bytes.
// It asks crypto/tls for one byte in probe mode: tls.Conn.Read decrypts
// every complete record it holds (handling post-handshake messages and
// skipping empty records) before it reads the underlying connection, so
// errWouldBlock can only come back once it has none, and nothing is lost:
// a partial record stays in crypto/tls, whose next Read goes on with it. A
// byte or an error that comes back instead is kept for plainReader.
func (ic *idleConn) probeIdle() bool {
	if ic.peeked || ic.perr != nil {
		return false
	}
	ic.probe = true
	n, err := ic.tc.Read(ic.pb[:])
	ic.probe = false
	switch {
	case n == 1:
		if errors.Is(err, errWouldBlock) {
			err = nil // what follows the byte is not here yet
		}
		ic.peeked, ic.perr = true, err
		return false
	case errors.Is(err, errWouldBlock):
		return true
	default:
		ic.perr = err
		return false
	}
}

// plainReader is the decrypted stream, for the packet reader: what
// crypto/tls returns, after a byte or error that a probe took from it.
type plainReader struct{ ic *idleConn }

func (pr plainReader) Read(p []byte) (int, error) {
	ic := pr.ic
	switch {
	case len(p) == 0:
		return 0, nil
	case ic.peeked:
		ic.peeked = false
		p[0] = ic.pb[0]
		return 1, nil
	case ic.perr != nil:
		err := ic.perr
		ic.perr = nil
		return 0, err
	}
	return ic.tc.Read(p)
}
