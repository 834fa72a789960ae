package main

import (
	"math"
	"testing"
)

func TestHistogramExactBelow256(t *testing.T) {
	var h Histogram
	for v := int64(0); v < 256; v++ {
		h.Record(v)
	}
	for _, q := range []float64{0.01, 0.5, 0.99, 1} {
		want := int64(math.Ceil(q*256)) - 1
		if got := h.Quantile(q); got != want {
			t.Errorf("Quantile(%v) = %d, want %d", q, got, want)
		}
	}
}

func TestHistogramRelativeError(t *testing.T) {
	var h Histogram
	const n = 1_000_000
	for v := int64(1); v <= n; v++ {
		h.Record(v * 1000) // 1 µs .. 1 s in ns
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := q * n * 1000
		got := float64(h.Quantile(q))
		if rel := math.Abs(got-want) / want; rel > 1.0/128 {
			t.Errorf("Quantile(%v) = %.0f, want %.0f ± 0.8%% (off by %.2f%%)", q, got, want, rel*100)
		}
	}
	if h.Max() != n*1000 || h.Count() != n {
		t.Errorf("Max, Count = %d, %d", h.Max(), h.Count())
	}
	if got := h.Quantile(1); got != n*1000 {
		t.Errorf("Quantile(1) = %d, want the exact max", got)
	}
}

func TestHistogramBuckets(t *testing.T) {
	// Every value must land in a bucket whose upper bound is >= it, and
	// the bucket before must end below it.
	for _, v := range []uint64{0, 1, 255, 256, 257, 511, 512, 1 << 20, 1<<20 + 12345, 1 << 40, math.MaxInt64} {
		i := histIndex(v)
		if i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d out of range", v, i)
		}
		if up := uint64(histUpper(i)); up < v {
			t.Errorf("value %d: bucket %d ends at %d", v, i, up)
		}
		if i > 0 && uint64(histUpper(i-1)) >= v {
			t.Errorf("value %d: previous bucket ends at %d", v, histUpper(i-1))
		}
	}
}

func TestHistogramMergeAndEmpty(t *testing.T) {
	var a, b, empty Histogram
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Error("empty histogram should report 0")
	}
	a.Record(10)
	b.Record(1000)
	b.Record(-5) // counts as 0
	a.Merge(&b)
	a.Merge(&empty)
	if a.Count() != 3 || a.Max() != 1000 || a.Quantile(0) != 0 {
		t.Errorf("merged: count %d max %d min-quantile %d", a.Count(), a.Max(), a.Quantile(0))
	}
}
