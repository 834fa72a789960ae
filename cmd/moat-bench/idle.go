package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// portsPerSource is how many connections idle puts on one loopback source
// address: below Linux's default ephemeral range (32768-60999).
const portsPerSource = 20000

// runIdle opens K connections, holds them idle for -duration (pinging at
// half the keep-alive if the hold is that long), and reports the broker's
// RSS before and after and per connection, then checks each connection is
// still alive with a PINGREQ.
func runIdle(ctx context.Context, c *config, log io.Writer) (*result, error) {
	r := newResult(c)
	ids, err := newIdentities(c)
	if err != nil {
		return nil, err
	}
	want := uint64(c.conns) + 1024
	got, err := raiseNoFile(want)
	if err != nil {
		return nil, fmt.Errorf("raise RLIMIT_NOFILE: %w", err)
	}
	if got < want {
		return nil, fmt.Errorf("RLIMIT_NOFILE is %d, need %d for -conns %d (run as root or raise the hard limit)", got, want, c.conns)
	}
	nsrc := c.srcAddrs
	if nsrc == 0 {
		nsrc = c.conns/portsPerSource + 1
	}
	d := &dialer{addr: c.broker, version: c.protoVersion(), keepAlive: uint16(c.keepAlive),
		timeout: 30 * time.Second, src: newSourceAddrs(nsrc, c.broker)}

	r.RSSBefore = procRSS(c.brokerPID)
	cpu := startCPU(c.brokerPID)
	fmt.Fprintf(log, "idle: opening %d connections to %s with %d workers from %d source addresses (broker RSS %s)...\n",
		c.conns, c.broker, c.concurrency, nsrc, mib(r.RSSBefore))
	conns := make([]*conn, c.conns)
	var (
		next, opened, failed atomic.Int64
		wg                   sync.WaitGroup
		errMu                sync.Mutex
	)
	openCtx, cancelOpen := context.WithTimeout(ctx, c.timeout/2)
	defer cancelOpen()
	t0 := time.Now()
	for range c.concurrency {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < c.conns && openCtx.Err() == nil; i = int(next.Add(1) - 1) {
				id := idleID(c.clientIDPre, i)
				cfg, err := ids.config(id)
				if err == nil {
					conns[i], err = d.connect(openCtx, id, cfg, 16)
				}
				if err != nil {
					failed.Add(1)
					errMu.Lock()
					r.noteErr(err)
					errMu.Unlock()
					continue
				}
				opened.Add(1)
			}
		})
	}
	progress := time.NewTicker(5 * time.Second)
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
wait:
	for {
		select {
		case <-finished:
			break wait
		case <-progress.C:
			fmt.Fprintf(log, "  %d open, %d failed, broker RSS %s\n", opened.Load(), failed.Load(), mib(procRSS(c.brokerPID)))
		}
	}
	progress.Stop()
	openTime := time.Since(t0)
	r.Connections, r.Failed = int(opened.Load()), int(failed.Load())
	r.HandshakesPerSec = float64(r.Connections) / openTime.Seconds()
	fmt.Fprintf(log, "idle: %d open in %v; holding for %v...\n", r.Connections, openTime.Round(time.Millisecond), c.duration)

	hold(ctx, conns, c.duration, d.keepAlive, c.concurrency)
	r.RSSAfter = procRSS(c.brokerPID)
	r.Seconds = time.Since(t0).Seconds()
	cpu.stop(r)
	if r.RSSBefore >= 0 && r.RSSAfter >= 0 && r.Connections > 0 {
		r.BytesPerConn = float64(r.RSSAfter-r.RSSBefore) / float64(r.Connections)
	}
	r.Alive = int(parallel(conns, c.concurrency, alive))
	parallel(conns, c.concurrency, func(cn *conn) bool { cn.nc.Close(); return true })
	return r, nil
}

// hold waits for d, sending PINGREQ on every connection each half
// keep-alive so the broker does not close them.
func hold(ctx context.Context, conns []*conn, d time.Duration, keepAlive uint16, workers int) {
	end := time.Now().Add(d)
	every := time.Duration(keepAlive) * time.Second / 2
	for {
		left := time.Until(end)
		if keepAlive == 0 || left <= every {
			sleepCtx(ctx, left)
			return
		}
		sleepCtx(ctx, every)
		if ctx.Err() != nil {
			return
		}
		parallel(conns, workers, func(cn *conn) bool {
			cn.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			return cn.send(&packet.Pingreq{}) == nil
		})
	}
}

// alive sends PINGREQ and reports whether PINGRESP comes back within 10s.
func alive(cn *conn) bool {
	cn.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if cn.send(&packet.Pingreq{}) != nil {
		return false
	}
	for {
		p, err := cn.r.ReadPacket(cn.v)
		if err != nil {
			return false
		}
		if _, ok := p.(*packet.Pingresp); ok {
			return true
		}
	}
}

// parallel runs f on every non-nil connection with n workers and returns
// how many calls returned true.
func parallel(conns []*conn, n int, f func(*conn) bool) int64 {
	var next, count atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(conns); i = int(next.Add(1) - 1) {
				if conns[i] != nil && f(conns[i]) {
					count.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return count.Load()
}
