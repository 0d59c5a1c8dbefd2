package load

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records durations in fixed memory (30 KiB whatever the number
// of samples) with a relative error under 1/64: log-linear buckets as in
// HdrHistogram, 128 per power of two below 128 ns and 64 per power of two
// above. A million messages cost no more than ten.
type Histogram struct {
	counts [nBuckets]uint64
	n      uint64
	max    time.Duration
}

const (
	subBits  = 7
	subCount = 1 << subBits // exact below this many nanoseconds
	half     = subCount / 2
	nBuckets = (64-subBits)*half + subCount
)

func bucket(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits
	return shift*half + int(v>>shift)
}

// bucketTop is the largest value bucket i holds.
func bucketTop(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := i/half - 1
	m := uint64(i%half + half)
	return m<<shift + (uint64(1)<<shift - 1)
}

// Record adds one sample; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucket(uint64(d))]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

// Count is the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest sample, exact.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the smallest recorded value v (to within the bucket
// width) such that a fraction q of the samples are <= v; 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(h.n)))
	if want < 1 {
		want = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= want {
			v := time.Duration(bucketTop(i))
			if v > h.max {
				v = h.max
			}
			return v
		}
	}
	return h.max
}

// Merge adds o's samples to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	if o.max > h.max {
		h.max = o.max
	}
}

// Buckets returns the non-empty buckets in increasing order, each as the
// largest value it holds in nanoseconds and its count. The bucket edges
// are the same in every run, so the buckets of several runs add up to
// exactly the histogram of all their samples.
func (h *Histogram) Buckets() [][2]uint64 {
	out := [][2]uint64{}
	for i, c := range h.counts {
		if c > 0 {
			out = append(out, [2]uint64{bucketTop(i), c})
		}
	}
	return out
}

// AddBucket adds n samples to the bucket that holds v (a bound from
// Buckets), and raises the maximum to max.
func (h *Histogram) AddBucket(v, n uint64, max time.Duration) {
	h.counts[bucket(v)] += n
	h.n += n
	if max > h.max {
		h.max = max
	}
}
