package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// runConnect measures handshakes/s: C workers each open an mTLS connection,
// complete CONNECT/CONNACK, disconnect and start again, for warmup+duration.
// Each worker has its own client id (and certificate with -certdir), so
// there is no session takeover. Every handshake is a full one (no TLS
// session resumption). Connections come from -src-addrs loopback source
// addresses (16 by default) so TIME_WAIT cannot exhaust ephemeral ports.
func runConnect(ctx context.Context, c *config, log io.Writer) (*result, error) {
	r := newResult(c)
	ids, err := newIdentities(c)
	if err != nil {
		return nil, err
	}
	workerIDs := make([]string, c.concurrency)
	for i := range workerIDs {
		workerIDs[i] = connID(c.clientIDPre, i)
	}
	cfgs, err := ids.configs(workerIDs)
	if err != nil {
		return nil, err
	}
	if _, err := raiseNoFile(uint64(2*c.concurrency) + 256); err != nil {
		return nil, fmt.Errorf("raise RLIMIT_NOFILE: %w", err)
	}
	nsrc := c.srcAddrs
	if nsrc == 0 {
		nsrc = 16
	}
	d := &dialer{addr: c.broker, version: c.protoVersion(), keepAlive: uint16(c.keepAlive),
		timeout: 10 * time.Second, src: newSourceAddrs(nsrc, c.broker)}

	var (
		phase atomic.Int32
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		mu    sync.Mutex
		hist  Histogram
	)
	fmt.Fprintf(log, "connect: %d workers against %s for %v (+%v warmup)...\n", c.concurrency, c.broker, c.duration, c.warmup)
	for w := range c.concurrency {
		wg.Go(func() {
			var h Histogram
			var ok, failed int
			var firstErr error
			for {
				select {
				case <-stop:
					mu.Lock()
					hist.Merge(&h)
					r.Connections += ok
					r.Failed += failed
					if firstErr != nil {
						r.noteErr(firstErr)
						r.Errors += uint64(failed - 1)
					}
					mu.Unlock()
					return
				default:
				}
				t := time.Now()
				cn, err := d.connect(ctx, workerIDs[w], cfgs[w], 64)
				measuring := phase.Load() == phaseMeasure
				if err != nil {
					if measuring {
						failed++
						if firstErr == nil {
							firstErr = err
						}
					}
					if errors.Is(err, errRefused) || ctx.Err() != nil {
						sleepCtx(ctx, 10*time.Millisecond) // do not spin on a refusal
					}
					continue
				}
				if measuring {
					ok++
					h.Record(int64(time.Since(t)))
				}
				cn.disconnect(2 * time.Second)
			}
		})
	}
	sleepCtx(ctx, c.warmup)
	r.RSSBefore = procRSS(c.brokerPID)
	cpu := startCPU(c.brokerPID)
	t0 := time.Now()
	phase.Store(phaseMeasure)
	sleepCtx(ctx, c.duration)
	phase.Store(phaseStop)
	elapsed := time.Since(t0)
	cpu.stop(r)
	r.RSSAfter = procRSS(c.brokerPID)
	close(stop)
	wg.Wait()

	r.Seconds = elapsed.Seconds()
	r.HandshakesPerSec = float64(r.Connections) / r.Seconds
	r.setLatency(&hist)
	return r, nil
}
