package stats

import (
	"math/bits"
	"sync/atomic"
)

// Histogram buckets: values 0..15 ns have a bucket each; above that every
// power of two is split into subBuckets linear buckets, so a bucket's width
// is at most 1/16 of its lower bound (percentiles within 6.25%). 960
// buckets cover the whole int64 range in a fixed 7.5 KiB.
const (
	subBits    = 4
	subBuckets = 1 << subBits
	numBuckets = subBuckets + (63-subBits)*subBuckets // exponents subBits..62
)

// Histogram is a fixed-memory, lock-free latency histogram, in clock ticks
// (see Now; converted to nanoseconds when read).
// Record is two atomic adds (and a compare-and-swap only on a new maximum).
type Histogram struct {
	buckets [numBuckets]atomic.Int64
	sum     atomic.Int64
	max     atomic.Int64
}

func bucketOf(v int64) int {
	if v < subBuckets {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1 // v in [2^e, 2^(e+1)), e >= subBits
	sub := int(v>>(e-subBits)) & (subBuckets - 1)
	return subBuckets + (e-subBits)*subBuckets + sub
}

// bucketHigh is the largest value that falls into bucket i.
func bucketHigh(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	e := (i-subBuckets)/subBuckets + subBits
	sub := int64((i - subBuckets) % subBuckets)
	low := (subBuckets + sub) << (e - subBits)
	return low + (int64(1) << (e - subBits)) - 1
}

// Record adds one value (negative values count as 0).
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	h.buckets[bucketOf(v)].Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// counts is a plain copy of a histogram, for reading and merging.
type counts struct {
	b   [numBuckets]int64
	sum int64
	max int64
}

func (h *Histogram) addTo(c *counts) {
	for i := range h.buckets {
		c.b[i] += h.buckets[i].Load()
	}
	c.sum += h.sum.Load()
	if m := h.max.Load(); m > c.max {
		c.max = m
	}
}

func (c *counts) add(o *counts) {
	for i := range c.b {
		c.b[i] += o.b[i]
	}
	c.sum += o.sum
	if o.max > c.max {
		c.max = o.max
	}
}

// Latency summarises a histogram, in nanoseconds. Percentiles are the upper
// bound of the bucket holding that rank, capped at Max, so that
// P50 <= P90 <= P99 <= Max always holds.
type Latency struct {
	Count int64
	Mean  int64
	P50   int64
	P90   int64
	P99   int64
	Max   int64
}

// latency summarises c; k converts ticks to nanoseconds.
func (c *counts) latency(k float64) Latency {
	var n int64
	for _, k := range c.b {
		n += k
	}
	l := Latency{Count: n, Max: c.max}
	if n == 0 {
		return l
	}
	l.Mean = toNs(c.sum/n, k)
	qs := [3]int64{(50*n + 99) / 100, (90*n + 99) / 100, (99*n + 99) / 100} // ranks, 1-based
	out := [3]*int64{&l.P50, &l.P90, &l.P99}
	var cum int64
	j := 0
	for i := 0; i < numBuckets && j < 3; i++ {
		cum += c.b[i]
		for j < 3 && cum >= qs[j] {
			v := bucketHigh(i)
			if v > c.max {
				v = c.max
			}
			*out[j] = v
			j++
		}
	}
	// Buckets and max are read one after the other: a value recorded in
	// between may leave a percentile above the max read. Keep them ordered.
	for _, p := range out {
		if *p > l.Max {
			l.Max = *p
		}
	}
	for _, p := range []*int64{&l.P50, &l.P90, &l.P99, &l.Max} {
		*p = toNs(*p, k)
	}
	return l
}
