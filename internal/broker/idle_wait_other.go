//go:build !unix

package broker

// canWait reports whether idleConn.wait works on this system: not here,
// where an idle connection's reader waits inside crypto/tls.
const canWait = false

func (ic *idleConn) wait() error { return errNoWait }
