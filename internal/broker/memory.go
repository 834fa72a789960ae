package broker

import (
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"sync/atomic"
	"time"
)

// Memory after connection bursts.
//
// A TLS handshake and CONNECT leave tens of KiB of garbage behind, so a
// burst of connections (start-up, a reconnect storm) grows the heap to the
// collector's goal, twice the live heap with GOGC=100, and the runtime
// returns freed pages to the OS only gradually. Idle connections allocate
// nothing, so no collection follows on its own: the broker would sit on
// that garbage, tens of MiB per 10,000 connections. Once a burst is over,
// the broker collects and returns free memory to the OS
// (debug.FreeOSMemory).
//
// During a burst (from its releaseAfter-th connection until the release,
// for burstGCMax at most) the collector runs twice as often (GOGC halved):
// the handshakes' garbage is then reclaimed before long-lived connection
// state is spread between it, which would otherwise stay resident as
// fragmentation (about 3 KiB per idle connection; BENCHMARKS.md).
//
// When: at least releaseAfter connections accepted since the last release,
// then the first one-second check at which no connection was accepted during
// the previous second and no handshake is in progress; never more often than
// every releaseMinInterval, so the cost (one collection) stays bounded under
// any connection rate.
const (
	releaseAfter       = 1000
	releaseCheck       = time.Second
	releaseMinInterval = 10 * time.Second
	burstGCMax         = 30 * time.Second
)

// memRelease is the state of the release after bursts.
type memRelease struct {
	accepted atomic.Int64 // connections accepted since the last release
	recent   atomic.Int64 // connections accepted since the last check
	armed    atomic.Bool  // a check is scheduled
	releases atomic.Int64 // releases so far
	last     time.Time    // last release; touched only by the (single) armed check
	// gogc is the GOGC to restore after a burst (0: not lowered), since
	// lowered; set when the check is armed, then touched only by it.
	gogc    int
	lowered time.Time
}

// connAccepted counts an accepted connection and arms the check.
func (b *Broker) connAccepted() {
	r := &b.mem
	r.recent.Add(1)
	if r.accepted.Add(1) >= releaseAfter && r.armed.CompareAndSwap(false, true) {
		r.gogc, r.lowered = burstGC(), time.Now()
		time.AfterFunc(releaseCheck, b.releaseCheck)
	}
}

// releaseCheck releases memory if the burst is over, or checks again later.
func (b *Broker) releaseCheck() {
	r := &b.mem
	if b.stopped.Load() {
		if r.gogc > 0 {
			debug.SetGCPercent(r.gogc)
			r.gogc = 0
		}
		return // stays armed: no more releases after Shutdown
	}
	if r.gogc > 0 && time.Since(r.lowered) > burstGCMax {
		// A burst that does not end (steady churn): stop paying for it.
		debug.SetGCPercent(r.gogc)
		r.gogc = 0
	}
	if r.recent.Swap(0) > 0 || len(b.handshakes) > 0 || time.Since(r.last) < releaseMinInterval {
		time.AfterFunc(releaseCheck, b.releaseCheck)
		return
	}
	if r.gogc > 0 {
		debug.SetGCPercent(r.gogc)
		r.gogc = 0
	}
	r.accepted.Store(0)
	debug.FreeOSMemory()
	b.m.memReleases.Inc()
	r.releases.Add(1)
	r.last = time.Now()
	r.armed.Store(false)
}

// burstGC halves GOGC for a burst and returns the value to restore, or 0
// when it left GOGC alone (off, or already below 2).
func burstGC() int {
	sample := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}}
	rtmetrics.Read(sample)
	if sample[0].Value.Kind() != rtmetrics.KindUint64 {
		return 0
	}
	gogc := int(sample[0].Value.Uint64())
	if gogc < 2 {
		return 0
	}
	debug.SetGCPercent(gogc / 2)
	return gogc
}
