//go:build unix

package broker

import (
	"io"
	"net"
	"os"
	"syscall"
)

// canWait reports whether idleConn.wait works on this system.
const canWait = true

// wait blocks until the socket has bytes (read into the stash), reaches
// its end or fails (kept in ic.err for the next Read), the read deadline
// passes or the connection is closed (both returned). It parks in the
// runtime's network poller a few frames below the caller, so the caller's
// goroutine needs no more than its initial stack. It returns at once if
// bytes or an error are already stashed. Call it only when the connection
// is idle (see conn.idle).
func (ic *idleConn) wait() error {
	if ic.stash != nil || ic.err != nil {
		return nil // already here
	}
	sc, ok := ic.Conn.(syscall.Conn)
	if !ok {
		return errNoWait
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	return raw.Read(ic.fill)
}

// fill reads the socket into a new stash, without blocking. It reports
// false if there is nothing to read yet.
func (ic *idleConn) fill(fd uintptr) bool {
	bp := stashes.Get().(*[]byte)
	for {
		n, err := syscall.Read(int(fd), *bp)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			stashes.Put(bp)
			return false
		case err != nil:
			ic.err = &net.OpError{Op: "read", Net: "tcp", Source: ic.LocalAddr(), Addr: ic.RemoteAddr(), Err: os.NewSyscallError("read", err)}
		case n == 0:
			ic.err = io.EOF
		default:
			ic.stash, ic.r, ic.w = bp, 0, n
			return true
		}
		stashes.Put(bp)
		return true
	}
}
