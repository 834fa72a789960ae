package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// benchShadowThings is how many things the shadow benchmarks spread their
// updates over (each thing's classic shadow), so that concurrent updates
// rarely touch the same row.
const benchShadowThings = 10_000

// BenchmarkPutShadow measures durable shadow updates of 1 KiB documents,
// one Update each, from parallelism x GOMAXPROCS goroutines (64 on one
// core: what the shadow service's concurrent requests look like to the
// store); group commit shares each fsync among them. "put" is PutShadow
// alone; "get+put" reads the shadow first in the same Update, as the
// shadow service does to merge and check the version. The shadows exist
// before the timer starts, so every put replaces a row.
func BenchmarkPutShadow(b *testing.B) {
	doc := bytes.Repeat([]byte(`{"state":{"reported":{"temperature":21.5}}}`), 1024/43+1)[:1024]
	for _, read := range []bool{false, true} {
		for _, par := range []int{16, 64} {
			mode := "put"
			if read {
				mode = "get+put"
			}
			b.Run(fmt.Sprintf("%s/parallelism=%d", mode, par), func(b *testing.B) {
				s := openTemp(b)
				defer s.Close()
				fillShadows(b, s, benchShadowThings, doc)
				var n atomic.Int64
				b.SetParallelism(par)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						sh := store.Shadow{ThingName: benchShadowThing(int(i % benchShadowThings)),
							Document: doc, Version: i, UpdatedAt: time.Now()}
						err := s.Update(context.Background(), func(tx store.Tx) error {
							if read {
								if _, err := tx.Shadow(sh.ThingName, ""); err != nil {
									return err
								}
							}
							return tx.PutShadow(sh)
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
			})
		}
	}
}

func benchShadowThing(i int) string { return "thing-" + strconv.Itoa(100_000_000 + i)[1:] }

// fillShadows creates the classic shadow of n things in one Update.
func fillShadows(b *testing.B, s *Store, n int, doc []byte) {
	b.Helper()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for i := range n {
			if err := tx.PutShadow(store.Shadow{ThingName: benchShadowThing(i), Document: doc, Version: 1}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
