package main

import (
	"math"
	"math/bits"
)

// histSubBits sets the precision of Histogram: each power of two is split
// into 2^histSubBits buckets, so a reported value is within 1/128 (0.8%)
// of the recorded one.
const (
	histSubBits  = 7
	histSubCount = 1 << histSubBits
	histBuckets  = (64-histSubBits)*histSubCount + histSubCount
)

// Histogram is a log-bucketed histogram of non-negative int64 values (here
// nanoseconds), in the spirit of HdrHistogram: values below 256 are exact,
// larger ones fall in buckets whose width is 1/128 of their magnitude. It
// records in constant time without allocating; it is not safe for
// concurrent use (give each goroutine its own and Merge them).
type Histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	min, max int64
	sum      float64
}

// histIndex returns the bucket of v (v >= 0).
func histIndex(v uint64) int {
	shift := bits.Len64(v) - (histSubBits + 1)
	if shift <= 0 {
		return int(v)
	}
	return shift*histSubCount + int(v>>uint(shift))
}

// histUpper returns the largest value that falls in bucket i.
func histUpper(i int) int64 {
	if i < 2*histSubCount {
		return int64(i)
	}
	shift := i/histSubCount - 1
	top := uint64(i - shift*histSubCount)
	u := (top+1)<<uint(shift) - 1
	if u > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(u)
}

// Record adds one value; negative values count as 0.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
	h.counts[histIndex(uint64(v))]++
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
	for i, c := range o.counts {
		h.counts[i] += c
	}
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest value recorded, exactly (0 if none).
func (h *Histogram) Max() int64 { return h.max }

// Mean returns the mean of the values recorded (0 if none).
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Quantile returns the value at quantile q (0..1): the upper bound of the
// bucket holding the ceil(q*n)-th smallest value, capped by the exact
// maximum. It returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(max(histUpper(i), h.min), h.max)
		}
	}
	return h.max
}
