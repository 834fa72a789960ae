//go:build !linux

package broker

// parkState is empty where there is no poller.
type parkState struct{}

// park leaves the wait for the next packet of an idle connection to a
// fresh goroutine, whose stack starts small and stays so while it waits
// (idleConn.wait). It reports true: the caller's goroutine returns.
func (c *conn) park() bool {
	go c.run(true)
	return true
}

func (ic *idleConn) unpark() {}
