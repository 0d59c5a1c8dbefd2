package load

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// Every value falls in a bucket whose range holds it, buckets follow one
// another without gaps, and a bucket is never wider than 1/64 of its values.
func TestBuckets(t *testing.T) {
	prevTop := int64(-1)
	for i := 0; i < nBuckets; i++ {
		top := bucketTop(i)
		if i > 0 && int64(top) <= prevTop {
			t.Fatalf("bucket %d top %d not above %d", i, top, prevTop)
		}
		lo := uint64(prevTop + 1)
		if bucket(lo) != i || bucket(top) != i {
			t.Fatalf("bucket %d holds [%d, %d] but bucket() gives %d and %d", i, lo, top, bucket(lo), bucket(top))
		}
		if lo >= subCount && float64(top-lo+1)/float64(lo) > 1.0/64 {
			t.Fatalf("bucket %d [%d, %d] too wide", i, lo, top)
		}
		if top == 1<<63-1 {
			break
		}
		prevTop = int64(top)
	}
}

// Quantiles agree with the exact ones from sorted samples to within the
// bucket width.
func TestQuantiles(t *testing.T) {
	var h Histogram
	r := rand.New(rand.NewPCG(1, 2))
	var all []time.Duration
	for i := 0; i < 100000; i++ {
		d := time.Duration(r.ExpFloat64() * float64(300*time.Microsecond))
		all = append(all, d)
		h.Record(d)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	for _, q := range []float64{.5, .9, .99, 1} {
		exact := all[int(q*float64(len(all)))-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/64+1 {
			t.Errorf("p%v = %v, exact %v", q*100, got, exact)
		}
	}
	if h.Max() != all[len(all)-1] || h.Count() != uint64(len(all)) {
		t.Errorf("max %v count %d", h.Max(), h.Count())
	}
	var empty Histogram
	if empty.Quantile(.5) != 0 {
		t.Error("empty histogram")
	}
	var m Histogram
	m.Record(time.Second)
	m.Merge(&h)
	if m.Count() != h.Count()+1 || m.Max() != time.Second {
		t.Errorf("merge: %d %v", m.Count(), m.Max())
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i * 7919))
	}
}
