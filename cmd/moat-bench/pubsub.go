package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// connectAll opens one connection per client id with up to n in parallel.
func connectAll(ctx context.Context, d *dialer, ids []string, cfgs []*tls.Config, readBuf, n int) ([]*conn, error) {
	conns := make([]*conn, len(ids))
	errs := make([]error, len(ids))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			conns[i], errs[i] = d.connect(ctx, ids[i], cfgs[i], readBuf)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("connect %s: %w", ids[i], err)
		}
	}
	return conns, nil
}

func closeAll(conns []*conn) {
	for _, c := range conns {
		if c != nil {
			c.nc.Close()
		}
	}
}

// runPubSub runs N publishers -> M subscribers: subscribers connect and
// subscribe first, then publishers send for warmup+duration, then the run
// drains until every subscriber has every message or nothing moves.
func runPubSub(ctx context.Context, c *config, log io.Writer) (*result, error) {
	r := newResult(c)
	ids, err := newIdentities(c)
	if err != nil {
		return nil, err
	}
	pre := c.clientIDPre
	pubIDs, subIDs, topics := make([]string, c.pubs), make([]string, c.subs), make([]string, c.pubs)
	for i := range pubIDs {
		pubIDs[i] = pubID(pre, i)
		topics[i] = pubTopic(c.topicPrefix, pubIDs[i])
	}
	for i := range subIDs {
		subIDs[i] = subID(pre, i)
	}
	subPre := c.topicPrefix
	if c.subTopicPrefix != "" {
		subPre = c.subTopicPrefix
	}
	filters := make([]string, len(pubIDs))
	for i := range pubIDs {
		filters[i] = pubTopic(subPre, pubIDs[i])
	}
	if c.subFilter == "wildcard" {
		filters = []string{pubTopic(subPre, "+")}
	}
	pubCfgs, err := ids.configs(pubIDs)
	if err != nil {
		return nil, err
	}
	subCfgs, err := ids.configs(subIDs)
	if err != nil {
		return nil, err
	}
	if _, err := raiseNoFile(uint64(c.pubs+c.subs) + 256); err != nil {
		return nil, fmt.Errorf("raise RLIMIT_NOFILE: %w", err)
	}
	d := &dialer{addr: c.broker, version: c.protoVersion(), keepAlive: uint16(c.keepAlive),
		timeout: 15 * time.Second, src: newSourceAddrs(c.srcAddrs, c.broker)}

	fmt.Fprintf(log, "connecting %d subscribers and %d publishers to %s...\n", c.subs, c.pubs, c.broker)
	subConns, err := connectAll(ctx, d, subIDs, subCfgs, 32<<10, c.concurrency)
	if err != nil {
		return nil, err
	}
	defer closeAll(subConns)
	var phase atomic.Int32
	subs := make([]*subscriber, c.subs)
	for i, sc := range subConns {
		subs[i] = newSubscriber(sc, c.pubs, &phase)
		if err := subs[i].subscribe(filters, byte(c.qos), 15*time.Second); err != nil {
			return nil, fmt.Errorf("%s: %w", sc.id, err)
		}
	}
	pubConns, err := connectAll(ctx, d, pubIDs, pubCfgs, 4<<10, c.concurrency)
	if err != nil {
		return nil, err
	}
	defer closeAll(pubConns)

	var (
		stop    = make(chan struct{})
		done    = make(chan struct{}) // stops keep-alive pingers
		readers sync.WaitGroup
		pubWG   sync.WaitGroup
		errMu   sync.Mutex
	)
	fail := func(err error) {
		errMu.Lock()
		r.noteErr(err)
		errMu.Unlock()
	}
	for i, sc := range subConns {
		readers.Go(func() {
			if err := subs[i].readLoop(); err != nil && phase.Load() != phaseStop {
				fail(fmt.Errorf("%s: %w", sc.id, err))
			}
		})
		go sc.keepAlive(d.keepAlive, done)
	}
	pubs := make([]*publisher, c.pubs)
	for i, pc := range pubConns {
		pubs[i] = newPublisher(pc, i, topics[i], byte(c.qos), c.size, c.inflight)
		readers.Go(func() {
			if err := pubs[i].readLoop(); err != nil && phase.Load() != phaseStop {
				fail(fmt.Errorf("%s: %w", pc.id, err))
			}
		})
		go pc.keepAlive(d.keepAlive, done)
	}
	for _, p := range pubs {
		pubWG.Go(func() {
			if err := p.run(c.rate, stop); err != nil && phase.Load() != phaseStop {
				fail(err)
			}
		})
	}

	sleepCtx(ctx, c.warmup)
	sentAt := func() []uint32 {
		s := make([]uint32, len(pubs))
		for i, p := range pubs {
			s[i] = p.sent.Load()
		}
		return s
	}
	first := sentAt()
	r.RSSBefore = procRSS(c.brokerPID)
	cpu := startCPU(c.brokerPID)
	t0 := time.Now()
	phase.Store(phaseMeasure)
	sleepCtx(ctx, c.duration)
	phase.Store(phaseStop)
	elapsed := time.Since(t0)
	inWindow := sentAt()
	cpu.stop(r)
	r.RSSAfter = procRSS(c.brokerPID)
	close(stop)
	if !waitFor(&pubWG, 5*time.Second) { // a publisher is stuck writing to a stalled broker
		for _, pc := range pubConns {
			pc.nc.SetWriteDeadline(time.Now())
		}
		pubWG.Wait()
	}
	final := sentAt()

	drainAll(ctx, c.drain, subs, pubs, final)
	close(done)
	for _, pc := range pubConns {
		pc.disconnect(0)
	}
	for _, sc := range subConns {
		sc.disconnect(0)
	}
	readers.Wait()

	r.Seconds = elapsed.Seconds()
	var hist Histogram
	for i, p := range pubs {
		r.Published += uint64(inWindow[i] - first[i])
		r.Refused += p.refused.Load()
		r.Errors += p.errs.Load()
	}
	for _, s := range subs {
		hist.Merge(&s.hist)
		r.Delivered += s.delivered
		r.Dup += s.dup
		r.Errors += s.errs + s.bad
		r.Stale += s.stale
		for i := range pubs {
			r.Lost += int64(final[i]-first[i]) - int64(s.seen[i].countRange(first[i], final[i]))
		}
	}
	r.setLatency(&hist)
	r.DeliveredPerSec = float64(r.Delivered) / r.Seconds
	r.PublishedPerSec = float64(r.Published) / r.Seconds
	r.Connections = c.pubs + c.subs
	return r, nil
}

// drainAll waits until every subscriber has every message sent and every
// QoS 1/2 flow is complete, until nothing has moved for a second, or until
// max has passed.
func drainAll(ctx context.Context, maxWait time.Duration, subs []*subscriber, pubs []*publisher, final []uint32) {
	var total uint64
	for _, n := range final {
		total += uint64(n)
	}
	progress := func() (sum uint64, complete bool) {
		complete = true
		for _, s := range subs {
			u := s.unique.Load()
			sum += u
			complete = complete && u >= total
		}
		for _, p := range pubs {
			sum += p.acked.Load()
			complete = complete && p.inflight() == 0
		}
		return sum, complete
	}
	deadline := time.Now().Add(maxWait)
	last, lastMove := uint64(0), time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		sum, complete := progress()
		if complete {
			return
		}
		if sum != last {
			last, lastMove = sum, time.Now()
		} else if time.Since(lastMove) > time.Second {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// waitFor waits for wg up to d and reports whether it finished.
func waitFor(wg *sync.WaitGroup, d time.Duration) bool {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}
