package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// benchThing is the thing number i of a benchmark fleet: three attributes,
// one of them (site) shared by 1 in 100 things, and a type on 1 in 10.
func benchThing(i int) store.Thing {
	now := time.Now()
	th := store.Thing{
		Name: fmt.Sprintf("thing-%08d", i),
		ID:   fmt.Sprintf("00000000-0000-0000-0000-%012d", i),
		Attributes: map[string]string{
			"site":   fmt.Sprintf("site-%03d", i%100),
			"serial": fmt.Sprintf("SN%08d", i),
			"model":  fmt.Sprintf("model-%d", i%7),
		},
		Version:   1,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if i%10 == 0 {
		th.TypeName = "gateway"
	}
	return th
}

// BenchmarkInsertThing measures durable thing creates, one Update each,
// from parallelism x GOMAXPROCS goroutines: group commit shares each fsync
// among them.
func BenchmarkInsertThing(b *testing.B) {
	for _, par := range []int{1, 16, 64} {
		b.Run("parallelism="+strconv.Itoa(par), func(b *testing.B) {
			s := openTemp(b)
			defer s.Close()
			var n atomic.Int64
			b.SetParallelism(par)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					th := benchThing(int(n.Add(1)))
					if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertThing(th) }); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
		})
	}
}

// fillThings inserts n benchThings, 5,000 per Update.
func fillThings(b *testing.B, s *Store, n int) {
	b.Helper()
	const chunk = 5000
	for lo := 0; lo < n; lo += chunk {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			for i := lo; i < min(lo+chunk, n); i++ {
				if err := tx.InsertThing(benchThing(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchFleetSize is 100,000 things, or MOAT_BENCH_THINGS (e.g. 1000000).
func benchFleetSize(b *testing.B) int {
	if v := os.Getenv("MOAT_BENCH_THINGS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("MOAT_BENCH_THINGS=%q: want an integer >= 1000", v)
		}
		return n
	}
	return 100_000
}

// BenchmarkThing measures a point read (DescribeThing) in a fleet.
func BenchmarkThing(b *testing.B) {
	size := benchFleetSize(b)
	s, err := Open(filepath.Join(b.TempDir(), "moat.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fillThings(b, s, size)
	b.Run(fmt.Sprintf("things=%d", size), func(b *testing.B) {
		var n atomic.Int64
		var lat latencies
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			defer func() { lat.add(mine) }()
			for pb.Next() {
				name := fmt.Sprintf("thing-%08d", int(n.Add(7919))%size)
				start := time.Now()
				err := s.View(context.Background(), func(tx store.Tx) error {
					_, err := tx.Thing(name)
					return err
				})
				mine = append(mine, time.Since(start))
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		lat.report(b)
	})
}

// BenchmarkListThingsByAttribute measures one page (100) of ListThings
// with each kind of filter in a fleet of 100,000 things (1,000 per site).
func BenchmarkListThingsByAttribute(b *testing.B) {
	size := benchFleetSize(b)
	s, err := Open(filepath.Join(b.TempDir(), "moat.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fillThings(b, s, size)
	cases := []struct {
		name string
		f    store.ThingFilter
	}{
		{"exact", store.ThingFilter{AttributeName: "site", AttributeValue: "site-042"}},
		{"exact-unique", store.ThingFilter{AttributeName: "serial", AttributeValue: "SN00004242"}},
		{"prefix-sparse", store.ThingFilter{AttributeName: "serial", AttributeValue: "SN0000424", AttributePrefix: true}},
		{"prefix-dense", store.ThingFilter{AttributeName: "site", AttributeValue: "site-0", AttributePrefix: true}},
		{"exact+type", store.ThingFilter{AttributeName: "site", AttributeValue: "site-040", TypeName: "gateway"}},
		{"type", store.ThingFilter{TypeName: "gateway"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var lat latencies
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				defer func() { lat.add(mine) }()
				for pb.Next() {
					start := time.Now()
					err := s.View(context.Background(), func(tx store.Tx) error {
						got, _, err := tx.ListThings(c.f, store.Page{Limit: 100})
						if err == nil && len(got) == 0 {
							err = fmt.Errorf("no things match %+v", c.f)
						}
						return err
					})
					mine = append(mine, time.Since(start))
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			lat.report(b)
		})
	}
}

// latencies collects per-operation times from parallel goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

// report adds the p99 latency (in microseconds) to the benchmark output.
func (l *latencies) report(b *testing.B) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	b.ReportMetric(float64(l.d[len(l.d)*99/100].Microseconds()), "p99-µs")
}

// benchSessions creates n sessions b-00000, b-00001, ...
func benchSessions(b *testing.B, s *Store, n int) {
	b.Helper()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for i := range n {
			if err := tx.PutSession(store.Session{ClientID: fmt.Sprintf("b-%05d", i), ProtocolVersion: 5}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEnqueueMessages measures durable enqueues of a 64-byte QoS 1
// message to persistent sessions (1,000 of them), one Update per publish,
// from parallelism x GOMAXPROCS goroutines: group commit shares each fsync
// among them. fanout is how many sessions one publish is queued for (one
// EnqueueMessages call).
func BenchmarkEnqueueMessages(b *testing.B) {
	const sessions = 1000
	payload := bytes.Repeat([]byte{0xa5}, 64)
	props := []byte{0x01, 0x01}
	for _, fanout := range []int{1, 10} {
		for _, par := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("fanout=%d/parallelism=%d", fanout, par), func(b *testing.B) {
				s := openTemp(b)
				defer s.Close()
				benchSessions(b, s, sessions)
				var n atomic.Int64
				b.SetParallelism(par)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					ms := make([]store.QueuedMessage, fanout)
					for pb.Next() {
						i := int(n.Add(1))
						now := time.Now()
						for j := range ms {
							ms[j] = store.QueuedMessage{ClientID: fmt.Sprintf("b-%05d", (i*fanout+j)%sessions),
								Topic: "devices/x/telemetry", Payload: payload, QoS: 1, Properties: props, CreatedAt: now}
						}
						err := s.Update(context.Background(), func(tx store.Tx) error {
							_, err := tx.EnqueueMessages(ms)
							return err
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N*fanout)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

// BenchmarkQueuedMessages measures reading one page of 100 queued messages
// (what the broker does to redeliver on reconnect) from a session holding
// 10,000, in parallel Views.
func BenchmarkQueuedMessages(b *testing.B) {
	const queued, page = 10_000, 100
	s := openTemp(b)
	defer s.Close()
	benchSessions(b, s, 1)
	payload := bytes.Repeat([]byte{0xa5}, 64)
	err := s.Update(context.Background(), func(tx store.Tx) error {
		ms := make([]store.QueuedMessage, queued)
		for i := range ms {
			ms[i] = store.QueuedMessage{ClientID: "b-00000", Topic: "devices/x/telemetry", Payload: payload, QoS: 1}
		}
		_, err := tx.EnqueueMessages(ms)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			after := n.Add(7919) % (queued - page)
			err := s.View(context.Background(), func(tx store.Tx) error {
				ms, err := tx.QueuedMessages("b-00000", after, page)
				if err == nil && len(ms) != page {
					err = fmt.Errorf("%d messages after %d, want %d", len(ms), after, page)
				}
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*page)/b.Elapsed().Seconds(), "msgs/s")
}
