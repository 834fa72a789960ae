package broker

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// Parking idle connections without a goroutine (Linux).
//
// A connection that has been idle for hotWait leaves its reader goroutine
// altogether: its socket is registered, one-shot, in the poller's epoll
// instance and the goroutine returns. When the socket becomes readable (a
// packet, the peer's FIN or an error), when its keep-alive deadline passes
// or when it is closed, the connection gets a new reader goroutine, which
// starts with idleConn.wait: data is read, an expired deadline or a
// close is reported as from any read.
//
// One poller serves the process, like the runtime's own network poller: a
// goroutine blocked in epoll_wait (so one OS thread) for at most
// pollerTick, which is also how often it looks for expired deadlines: a
// parked connection's keep-alive is enforced up to pollerTick late.
//
// Epoll's data is a slot number and that slot's generation, never a
// pointer (the garbage collector does not see the kernel's copy) nor the
// file descriptor (which a closed connection may pass on to a new one): an
// event for a slot since freed or reused is ignored. Registration and
// re-arming run inside syscall.RawConn.Control, so the descriptor cannot be
// closed meanwhile; closing it removes it from the epoll set.
const (
	hotWait    = 100 * time.Millisecond
	pollerTick = 250 * time.Millisecond
)

// parkState is a connection's bookkeeping with the poller, guarded by
// poller.mu.
type parkState struct {
	slot  uint32 // 1 + its slot while parked, else 0
	added bool   // registered with the epoll instance: re-armed with MOD
}

// poller is the process's epoll instance and its parked connections.
type poller struct {
	epfd  int
	epoch time.Time // deadlines are monotonic nanoseconds since epoch

	mu    sync.Mutex
	slots []slot
	free  []uint32 // indexes of free slots
}

// slot is one parked connection.
type slot struct {
	c   *conn
	dl  int64  // keep-alive deadline, ns since epoch; 0: none
	gen uint32 // bumped at every use, to recognise stale events
}

var (
	pollerMu sync.Mutex
	thePoll  *poller // nil until the first park; guarded by pollerMu
	pollErr  error   // why there is no poller, once tried
)

// getPoller returns the process's poller, started on first use, or nil if
// it cannot be made (the caller then waits in a goroutine).
func getPoller(start bool) *poller {
	pollerMu.Lock()
	defer pollerMu.Unlock()
	if thePoll != nil || pollErr != nil || !start {
		return thePoll
	}
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		pollErr = err
		return nil
	}
	thePoll = &poller{epfd: epfd, epoch: time.Now()}
	go thePoll.loop()
	return thePoll
}

// park waits for the next packet of an idle connection: for up to hotWait
// in the caller's goroutine, then without a goroutine, in the poller. It
// reports whether the connection was handed off (the caller's goroutine
// then returns); false means something happened in the first wait (bytes
// came, the deadline passed, the connection was closed) that the caller's
// next idleConn.wait returns.
func (c *conn) park() bool {
	ic := c.ic()
	start := time.Now()
	var dl time.Time
	hot := start.Add(hotWait)
	if c.keep > 0 {
		dl = start.Add(c.keep)
		if dl.Before(hot) {
			hot = dl
		}
	}
	_ = ic.SetReadDeadline(hot)
	err := ic.wait()
	if err == nil && c.keep > 0 {
		return false // bytes came; readLoop sets the deadline anew
	}
	_ = ic.SetReadDeadline(dl)
	if !isHotTimeout(err, dl) {
		return false
	}
	p := getPoller(true)
	if p == nil || !p.park(c, ic, dl) {
		go c.run(true)
	}
	return true
}

// isHotTimeout reports whether err ended the hot wait and nothing else did:
// a timeout while the keep-alive deadline dl (zero: none) is still ahead.
func isHotTimeout(err error, dl time.Time) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && (dl.IsZero() || time.Now().Before(dl))
}

// park registers an idle connection. It reports false if it could not, and
// the caller must then go on reading in another way; true if the
// connection was parked, or woken meanwhile by someone else.
func (p *poller) park(c *conn, ic *idleConn, dl time.Time) bool {
	var d int64
	if !dl.IsZero() {
		d = max(int64(dl.Sub(p.epoch)), 1)
	}
	p.mu.Lock()
	i, gen := p.allocLocked(c, d)
	ic.park.slot = i + 1
	// Once registered, the connection may be handed to a new reader at
	// once: nothing of it is touched after the registration call.
	add := !ic.park.added
	ic.park.added = true
	p.mu.Unlock()

	var armErr error
	err := rawControl(ic, func(fd int) { armErr = p.arm(fd, add, i, gen) })
	if err == nil && armErr == nil {
		return true
	}
	// Not registered: take the slot back, unless a close already woke the
	// connection.
	p.mu.Lock()
	mine := p.slots[i].gen == gen && p.slots[i].c == c
	if mine {
		p.freeLocked(i)
		ic.park.slot = 0
	}
	p.mu.Unlock()
	return !mine
}

// rawControl runs f with the connection's file descriptor, which stays
// open meanwhile.
func rawControl(ic *idleConn, f func(fd int)) error {
	sc, ok := ic.Conn.(syscall.Conn)
	if !ok {
		return errNoWait
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	return raw.Control(func(fd uintptr) { f(int(fd)) })
}

// arm registers fd (add) or re-arms it for one readiness event carrying
// slot i and its generation. If a registration fails, the next re-arm
// finds ENOENT and adds.
func (p *poller) arm(fd int, add bool, i, gen uint32) error {
	ev := syscall.EpollEvent{
		Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
		Fd:     int32(i),
		Pad:    int32(gen),
	}
	op := syscall.EPOLL_CTL_MOD
	if add {
		op = syscall.EPOLL_CTL_ADD
	}
	err := syscall.EpollCtl(p.epfd, op, fd, &ev)
	switch {
	case err == syscall.ENOENT && op == syscall.EPOLL_CTL_MOD:
		err = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev)
	case err == syscall.EEXIST && op == syscall.EPOLL_CTL_ADD:
		err = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, fd, &ev)
	}
	return err
}

// unpark wakes the connection if it is parked: its new reader then finds
// it closed.
func (ic *idleConn) unpark() {
	p := getPoller(false)
	if p == nil {
		return
	}
	p.mu.Lock()
	var c *conn
	if s := ic.park.slot; s != 0 {
		c = p.takeLocked(s-1, p.slots[s-1].gen)
	}
	p.mu.Unlock()
	if c != nil {
		go c.run(true)
	}
}

// allocLocked puts c in a free slot and returns the slot and its new
// generation. The caller holds p.mu.
func (p *poller) allocLocked(c *conn, dl int64) (uint32, uint32) {
	var i uint32
	if n := len(p.free); n > 0 {
		i = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		i = uint32(len(p.slots))
		p.slots = append(p.slots, slot{})
	}
	s := &p.slots[i]
	s.c, s.dl = c, dl
	s.gen++
	return i, s.gen
}

// freeLocked empties slot i. The caller holds p.mu.
func (p *poller) freeLocked(i uint32) {
	p.slots[i].c, p.slots[i].dl = nil, 0
	p.free = append(p.free, i)
}

// takeLocked removes and returns the connection parked in slot i under
// generation gen, or nil if there is none (the event is stale). The caller
// holds p.mu.
func (p *poller) takeLocked(i, gen uint32) *conn {
	if int(i) >= len(p.slots) {
		return nil
	}
	s := &p.slots[i]
	c := s.c
	if c == nil || s.gen != gen {
		return nil
	}
	c.ic().park.slot = 0
	p.freeLocked(i)
	return c
}

// loop waits for events and deadlines, and gives each woken connection a
// reader goroutine. It runs for the life of the process.
func (p *poller) loop() {
	events := make([]syscall.EpollEvent, 256)
	var wake []*conn
	lastScan := time.Now()
	for {
		n, err := syscall.EpollWait(p.epfd, events, int(pollerTick/time.Millisecond))
		if err != nil && err != syscall.EINTR {
			time.Sleep(pollerTick) // not expected; do not spin
		}
		now := time.Now()
		p.mu.Lock()
		for _, ev := range events[:max(n, 0)] {
			if c := p.takeLocked(uint32(ev.Fd), uint32(ev.Pad)); c != nil {
				wake = append(wake, c)
			}
		}
		if now.Sub(lastScan) >= pollerTick {
			lastScan = now
			wake = p.expiredLocked(int64(now.Sub(p.epoch)), wake)
		}
		p.mu.Unlock()
		for i, c := range wake {
			go c.run(true)
			wake[i] = nil
		}
		wake = wake[:0]
	}
}

// expiredLocked removes the connections whose deadline is at or before
// now and appends them to wake. The caller holds p.mu.
func (p *poller) expiredLocked(now int64, wake []*conn) []*conn {
	for i := range p.slots {
		s := &p.slots[i]
		if s.c != nil && s.dl != 0 && s.dl <= now {
			wake = append(wake, p.takeLocked(uint32(i), s.gen))
		}
	}
	return wake
}
