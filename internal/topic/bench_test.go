package topic

import (
	"fmt"
	"strconv"
	"testing"
)

type benchVal struct {
	qos, opts byte
	subID     uint32
}

// benchTrie builds a trie with n subscriptions and returns topics to match.
// literal: one exact filter per device, "site/S/dev/D/temp". mixed: 80%
// literal, 10% "site/S/dev/+/temp", 10% "site/S/#", so a topic hits
// several filters.
func benchTrie(b *testing.B, n int, mixed bool) (*Trie[int, benchVal], []string) {
	b.Helper()
	tr := NewTrie[int, benchVal](nil)
	sites := max(1, n/1000)
	for i := range n {
		s, d := strconv.Itoa(i%sites), strconv.Itoa(i)
		f := "site/" + s + "/dev/" + d + "/temp"
		if mixed {
			switch i % 10 {
			case 8:
				f = "site/" + s + "/dev/+/temp"
			case 9:
				f = "site/" + s + "/#"
			}
		}
		if _, err := tr.Insert(f, i, benchVal{qos: 1}); err != nil {
			b.Fatal(err)
		}
	}
	topics := make([]string, 1024)
	for i := range topics {
		d := (i * 7919) % n
		topics[i] = "site/" + strconv.Itoa(d%sites) + "/dev/" + strconv.Itoa(d) + "/temp"
	}
	return tr, topics
}

func BenchmarkTrie_Match(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		for _, mixed := range []bool{false, true} {
			kind := "literal"
			if mixed {
				kind = "mixed"
			}
			b.Run(fmt.Sprintf("%s/%d", kind, n), func(b *testing.B) {
				tr, topics := benchTrie(b, n, mixed)
				var r Result[int, benchVal]
				b.ReportAllocs()
				b.ResetTimer()
				results := 0
				for i := 0; b.Loop(); i++ {
					tr.Match(topics[i%len(topics)], &r)
					results += len(r.Subs)
				}
				b.ReportMetric(float64(results)/float64(b.N), "results/op")
			})
		}
	}
}

func BenchmarkTrie_MatchParallel(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			tr, topics := benchTrie(b, n, true)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var r Result[int, benchVal]
				for i := 0; pb.Next(); i++ {
					tr.Match(topics[i%len(topics)], &r)
				}
			})
		})
	}
}

// BenchmarkTrie_MatchWhileWriting measures Match with one goroutine
// inserting and removing subscriptions all the time.
func BenchmarkTrie_MatchWhileWriting(b *testing.B) {
	tr, topics := benchTrie(b, 100000, true)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			f := "site/" + strconv.Itoa(i%100) + "/dev/x" + strconv.Itoa(i%5000) + "/temp"
			tr.Insert(f, -1, benchVal{})
			tr.Remove(f, -1)
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var r Result[int, benchVal]
		for i := 0; pb.Next(); i++ {
			tr.Match(topics[i%len(topics)], &r)
		}
	})
	b.StopTimer()
	close(stop)
	<-done
}

func BenchmarkTrie_Fanout(b *testing.B) {
	// 1000 subscribers on one filter: the cost is copying the results.
	tr := NewTrie[int, benchVal](nil)
	for i := range 1000 {
		tr.Insert("broadcast/all", i, benchVal{})
	}
	var r Result[int, benchVal]
	b.ReportAllocs()
	for b.Loop() {
		tr.Match("broadcast/all", &r)
	}
}

func BenchmarkTrie_InsertRemove(b *testing.B) {
	tr, _ := benchTrie(b, 100000, true)
	filters := make([]string, 1024)
	for i := range filters {
		filters[i] = "site/" + strconv.Itoa(i%100) + "/dev/new" + strconv.Itoa(i) + "/temp"
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f := filters[i%len(filters)]
		tr.Insert(f, i, benchVal{})
		tr.Remove(f, i)
	}
}

func BenchmarkTrie_Insert(b *testing.B) {
	// Reports heap bytes per subscription for unique device filters.
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		before := heapInUse()
		b.StartTimer()
		tr, _ := benchTrie(b, 100000, false)
		b.StopTimer()
		b.ReportMetric(float64(heapInUse()-before)/100000, "heapB/sub")
		_ = tr.Len()
		b.StartTimer()
	}
}

func BenchmarkMatch(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Match("$aws/things/+/shadow/name/+/update/#", "$aws/things/thing-1/shadow/name/main/update/delta")
	}
}

func BenchmarkValidateName(b *testing.B) {
	lim := AWSLimits()
	b.ReportAllocs()
	for b.Loop() {
		_ = ValidateName("$aws/things/thing-1/shadow/name/main/update", lim)
	}
}

func BenchmarkValidateFilter(b *testing.B) {
	lim := AWSLimits()
	b.ReportAllocs()
	for b.Loop() {
		_ = ValidateFilter("$share/g/$aws/things/+/shadow/#", lim)
	}
}
