// cgo.Handle lookups with 100k live handles vs a slice index.
// go test -bench . ./handles (from benchmarks/go)
package handles

import (
	"math/rand"
	"runtime/cgo"
	"testing"
)

type fut struct{ state uint32 }

const live = 100_000

func BenchmarkCgoHandleValue(b *testing.B) {
	hs := make([]cgo.Handle, live)
	for i := range hs {
		hs[i] = cgo.NewHandle(&fut{})
	}
	perm := rand.Perm(live)
	b.ResetTimer()
	var s uint32
	for i := 0; i < b.N; i++ {
		s += hs[perm[i%live]].Value().(*fut).state
	}
	_ = s
}

func BenchmarkCgoHandleNewDelete(b *testing.B) {
	for i := 0; i < b.N; i++ {
		cgo.NewHandle(&fut{}).Delete()
	}
}

func BenchmarkSlabValue(b *testing.B) {
	slab := make([]*fut, live)
	for i := range slab {
		slab[i] = &fut{}
	}
	perm := rand.Perm(live)
	b.ResetTimer()
	var s uint32
	for i := 0; i < b.N; i++ {
		s += slab[perm[i%live]].state
	}
	_ = s
}
