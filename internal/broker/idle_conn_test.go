package broker

import (
	"errors"
	"io"
	"net"
	"testing"
)

// countConn is a net.Conn that counts its Reads and serves data.
type countConn struct {
	net.Conn // nil: only Read is used
	data     []byte
	reads    int
}

func (c *countConn) Read(p []byte) (int, error) {
	c.reads++
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.data)
	c.data = c.data[n:]
	return n, nil
}

func TestIdleConn_Read(t *testing.T) {
	// A probing Read never reads the socket: with nothing stashed it
	// returns errWouldBlock, a temporary timeout (which crypto/tls does
	// not hold against the connection). Stashed bytes come first, probe
	// or not, and the stash is given back once empty.
	src := &countConn{data: []byte("socket")}
	ic := newIdleConn(src)
	if newIdleConn(ic) != ic {
		t.Fatal("newIdleConn wrapped an idleConn again")
	}
	ic.probe = true
	p := make([]byte, 4)
	if n, err := ic.Read(p); n != 0 || err != errWouldBlock {
		t.Fatalf("probe, nothing stashed: %d, %v; want 0, errWouldBlock", n, err)
	}
	if src.reads != 0 {
		t.Fatalf("the probe read the socket %d times", src.reads)
	}
	var ne net.Error
	if !errors.As(errWouldBlock, &ne) || !ne.Timeout() || !ne.Temporary() { // crypto/tls checks Temporary
		t.Fatal("errWouldBlock is not a temporary timeout")
	}
	bp := stashes.Get().(*[]byte)
	ic.stash, ic.r, ic.w = bp, 0, copy(*bp, "stashed")
	var got []byte
	for ic.stash != nil {
		n, err := ic.Read(p)
		if err != nil {
			t.Fatalf("Read from the stash: %v", err)
		}
		got = append(got, p[:n]...)
	}
	if string(got) != "stashed" || src.reads != 0 {
		t.Fatalf("read %q from the stash with %d socket reads, want %q and none", got, src.reads, "stashed")
	}
	ic.probe = false
	if n, err := ic.Read(p); string(p[:n]) != "sock" || err != nil {
		t.Fatalf("Read: %q, %v; want the socket's bytes", p[:n], err)
	}
}
