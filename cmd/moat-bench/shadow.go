package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// The shadow mode measures device shadow updates over MQTT against AWS
// IoT's contract (see shadow_reply.go for the documents):
//
//	moat-bench shadow -broker 127.0.0.1:8883 -cafile CA -cert C -key K -conns 100 -things 1000 -updates 10
//
// Phases: connect -conns clients (<clientid-prefix>-N), each subscribes to
// the update/accepted and update/rejected topics of its own things (an
// even split of -things), then every client sends -updates updates per
// thing, round robin over its things, with at most -window requests
// without a reply; the run ends when every request has its reply or has
// waited -reply-timeout. Throughput is accepted updates per second from
// the first send to the last reply; latency is from send to accepted.

// runShadow is the shadow subcommand; it returns the exit code: 0 when
// every update was accepted (or rejected, with -allow-rejects), 1 when
// any is missing, refused, unsent or rejected or the broker broke the
// contract, 2 for bad usage.
func runShadow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseShadowConfig(args, stderr)
	if err != nil {
		return usageErr(stderr, "shadow", err)
	}
	// The hard limit: whatever hangs, the process ends.
	watchdog := time.AfterFunc(c.timeout, func() {
		fmt.Fprintf(stderr, "moat-bench shadow: hard timeout %v reached; exiting\n", c.timeout)
		os.Exit(3)
	})
	defer watchdog.Stop()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return usageErr(stderr, "shadow", fmt.Errorf("-cpuprofile: %w", err))
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return usageErr(stderr, "shadow", fmt.Errorf("-cpuprofile: %w", err))
		}
		defer pprof.StopCPUProfile()
	}
	r, err := runShadowLoad(ctx, c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "moat-bench shadow: %v\n", err)
		return 1
	}
	if err := r.report(c.json, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "moat-bench shadow: %v\n", err)
		return 1
	}
	if why := r.failure(c.allowRejects); why != "" {
		fmt.Fprintf(stderr, "moat-bench shadow: FAIL: %s\n", why)
		return 1
	}
	return 0
}

// runShadowLoad connects and subscribes the clients, runs the updates and
// returns the result. It returns an error only when the run could not
// start (identities, connections, subscriptions); what goes wrong later
// is in the result.
func runShadowLoad(ctx context.Context, c *shadowConfig, log io.Writer) (*shadowResult, error) {
	r := newShadowResult(c)
	ids, err := newIdentities(c.tlsConfig())
	if err != nil {
		return nil, err
	}
	clientIDs := make([]string, c.conns)
	for i := range clientIDs {
		clientIDs[i] = shadowClientID(c.clientIDPre, i)
	}
	cfgs, err := ids.configs(clientIDs)
	if err != nil {
		return nil, err
	}
	if _, err := raiseNoFile(uint64(c.conns) + 256); err != nil {
		return nil, fmt.Errorf("raise RLIMIT_NOFILE: %w", err)
	}
	d := &dialer{addr: c.broker, version: c.protoVersion(), keepAlive: uint16(c.keepAlive),
		timeout: 15 * time.Second, src: newSourceAddrs(c.srcAddrs, c.broker)}

	fmt.Fprintf(log, "shadow: connecting %d clients to %s...\n", c.conns, c.broker)
	conns, err := connectAll(ctx, d, clientIDs, cfgs, 16<<10, c.concurrency)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	clients := make([]*shadowClient, c.conns)
	for i, cn := range conns {
		lo, hi := thingRange(c.things, c.conns, i)
		clients[i] = newShadowClient(cn, i, lo, hi, c)
	}
	if err := subscribeAll(clients, c); err != nil {
		return nil, err
	}

	var (
		closing atomic.Bool           // the run is over: reader errors are expected
		done    = make(chan struct{}) // stops keep-alive pingers
		readers sync.WaitGroup
		errMu   sync.Mutex
		readErr = map[int]error{}
	)
	for i, s := range clients {
		readers.Go(func() {
			err := s.readLoop()
			if !closing.Load() {
				errMu.Lock()
				readErr[i] = fmt.Errorf("%s: %w", s.c.id, err)
				errMu.Unlock()
				s.c.nc.Close() // so the sender fails fast instead of waiting for slots
			}
		})
		go s.c.keepAlive(d.keepAlive, done)
	}

	fmt.Fprintf(log, "shadow: %d updates (%d things x %d) over %d connections, window %d...\n",
		c.things*c.updates, c.things, c.updates, c.conns, c.window)
	r.RSSBefore = procRSS(c.brokerPID)
	cpu := startCPU(c.brokerPID)
	start := now()
	for _, s := range clients {
		s.start = start
		go s.run(ctx)
	}
	waitShadow(ctx, clients, c.replyTimeout)
	end := now()
	r.ClientCPU = selfCPU() - cpu.self
	if b := procCPU(c.brokerPID); b >= 0 && cpu.broker >= 0 {
		r.BrokerCPU = b - cpu.broker
	}
	r.RSSAfter = procRSS(c.brokerPID)

	closing.Store(true)
	close(done)
	disconnectAll(clients, &readers)
	for i, s := range clients {
		if err := readErr[i]; err != nil {
			r.noteErr(err)
		}
		if s.sendErr != nil && !errors.Is(s.sendErr, errConnDead) && readErr[i] == nil {
			r.noteErr(s.sendErr)
		}
	}
	r.collect(clients, start, end)
	return r, nil
}

// disconnectAll sends DISCONNECT on every connection and waits up to 2s
// for the broker to close them (the readers see the end), then closes what
// is left, and returns when every reader has returned.
func disconnectAll(clients []*shadowClient, readers *sync.WaitGroup) {
	for _, s := range clients {
		<-s.done // the sender has returned (waitShadow waited for it)
		s.c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		s.c.sendWait(&packet.Disconnect{})
	}
	if !waitFor(readers, 2*time.Second) {
		for _, s := range clients {
			s.c.abort()
		}
		readers.Wait()
	}
}

// subscribeAll subscribes every client to its things' reply topics, with
// -c clients at a time.
func subscribeAll(clients []*shadowClient, c *shadowConfig) error {
	errs := make([]error, len(clients))
	sem := make(chan struct{}, c.concurrency)
	var wg sync.WaitGroup
	for i, s := range clients {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = s.subscribe(s.filters(c.subFilter == "wildcard"), byte(c.qos), 15*time.Second)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("%s: %w", clients[i].c.id, err)
		}
	}
	return nil
}

// waitShadow waits until every client has sent and resolved all its
// requests, marking those that waited longer than timeout missing, and
// at once those of a connection that ended. When ctx ends first, every
// request still in flight counts as missing.
func waitShadow(ctx context.Context, clients []*shadowClient, timeout time.Duration) {
	tick := time.NewTicker(min(max(timeout/10, time.Millisecond), 20*time.Millisecond))
	defer tick.Stop()
	for {
		deadline := now() - int64(timeout)
		complete := true
		for _, s := range clients {
			select {
			case <-s.dead: // no reply can come any more
				s.sweep(math.MaxInt64)
			default:
				s.sweep(deadline)
			}
			complete = complete && s.complete()
		}
		if complete {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			for _, s := range clients {
				s.c.nc.SetWriteDeadline(time.Now()) // unblocks a sender stuck writing
				<-s.done                            // run sees ctx too
				s.sweep(now())
			}
			return
		}
	}
}
