// The data-parallel benchmarks of benchmarks/par/*.mjs in Go, for comparison: the same
// algorithms, inputs and chunking, with goroutines instead of gort's.
//
//	go run . <mandelbrot|matmul|sort> <size>
//
// prints one JSON line: {"bench", "size", "seqMs", "parMs": {"1", "2"}, "checksum"}: the
// sequential version, then the goroutine version with GOMAXPROCS 1 and 2 (after one untimed
// run of the goroutine version first), and the checksum of the result (sum of v[i] * (i mod 1021 + 1), as lib/par.mjs
// computes it). Every parallel result must equal the sequential one, or it exits with status 1.
//
// Floating point: Go may fuse x*y + z into one instruction on some CPUs, which JS never does.
// Every product is wrapped in an explicit float64() conversion, which the Go spec says prevents
// fusion, so the results here are the same bits as the JS versions'.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
)

// ---------------------------------------------------------------- shared helpers

// fillRandom is lib/par.mjs fillRandom: float64s in [0, 1) from xorshift32.
func fillRandom(v []float64, seed uint32) {
	x := seed
	if x == 0 {
		x = 1
	}
	next := func() uint32 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		return x
	}
	for i := range v {
		hi := next() >> 5
		lo := next() >> 6
		v[i] = (float64(hi)*67108864 + float64(lo)) / 9007199254740992
	}
}

func weightedSum[T uint8 | float64](v []T) float64 {
	s := 0.0
	for i, x := range v {
		s += float64(float64(x) * float64(i%1021+1))
	}
	return s
}

// ---------------------------------------------------------------- mandelbrot

const maxIter = 256
const rowChunk = 16

func mandelRows(img []uint8, w, h, y0, y1 int) {
	dx := 3 / float64(w)
	dy := 3 / float64(h)
	for y := y0; y < y1; y++ {
		ci := -1.5 + float64(float64(y)*dy)
		o := y * w
		for x := 0; x < w; x++ {
			cr := -2 + float64(float64(x)*dx)
			zr, zi := 0.0, 0.0
			i := 0
			for ; i < maxIter; i++ {
				zr2 := float64(zr * zr)
				zi2 := float64(zi * zi)
				if zr2+zi2 > 4 {
					break
				}
				zi = float64(float64(2*zr)*zi) + ci
				zr = zr2 - zi2 + cr
			}
			img[o] = uint8(i) // 256 wraps to 0, as in a Uint8Array
			o++
		}
	}
}

// mandelPar: chunks of rows from a buffered channel, one goroutine per P.
func mandelPar(img []uint8, n int) {
	rows := make(chan int, (n+rowChunk-1)/rowChunk)
	for y0 := 0; y0 < n; y0 += rowChunk {
		rows <- y0
	}
	close(rows)
	var wg sync.WaitGroup
	for p := 0; p < runtime.GOMAXPROCS(0); p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for y0 := range rows {
				mandelRows(img, n, n, y0, min(n, y0+rowChunk))
			}
		}()
	}
	wg.Wait()
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// ---------------------------------------------------------------- matmul

const matChunks = 16

func matmulRows(a, b, c []float64, n, r0, r1 int) {
	for i := r0; i < r1; i++ {
		row := c[i*n : i*n+n]
		for j := range row {
			row[j] = 0
		}
		for k := 0; k < n; k++ {
			aik := a[i*n+k]
			bk := b[k*n : k*n+n]
			for j := range row {
				row[j] += float64(aik * bk[j])
			}
		}
	}
}

func matmulPar(a, b, c []float64, n int) {
	var wg sync.WaitGroup
	for i := 0; i < matChunks; i++ {
		wg.Add(1)
		go func(r0, r1 int) {
			defer wg.Done()
			matmulRows(a, b, c, n, r0, r1)
		}(i*n/matChunks, (i+1)*n/matChunks)
	}
	wg.Wait()
}

// ---------------------------------------------------------------- sort

const sortChunks = 4 // a power of 4: the merges end in the array itself
const mergeParts = 4

// split: how many of the first k outputs of merging src[lo:mid] with src[mid:hi] come from
// the first run (ties from the first run first).
func split(src []float64, lo, mid, hi, k int) int {
	a := k - (hi - mid)
	if a < 0 {
		a = 0
	}
	b := min(k, mid-lo)
	for a < b {
		i := int(uint(a+b) >> 1)
		if src[lo+i] <= src[mid+k-i-1] {
			a = i + 1
		} else {
			b = i
		}
	}
	return a
}

func mergePart(src, dst []float64, lo, mid, hi, o0, o1 int) {
	i := lo + split(src, lo, mid, hi, o0-lo)
	j := mid + (o0 - lo) - (i - lo)
	iEnd := lo + split(src, lo, mid, hi, o1-lo)
	jEnd := mid + (o1 - lo) - (iEnd - lo)
	o := o0
	for i < iEnd && j < jEnd {
		if x, y := src[i], src[j]; x <= y {
			dst[o] = x
			i++
		} else {
			dst[o] = y
			j++
		}
		o++
	}
	o += copy(dst[o:], src[i:iEnd])
	copy(dst[o:], src[j:jEnd])
}

func sortPar(data, scratch []float64) {
	n := len(data)
	b := make([]int, sortChunks+1)
	for i := range b {
		b[i] = i * n / sortChunks
	}
	var wg sync.WaitGroup
	for c := 0; c < sortChunks; c++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			sort.Float64s(data[lo:hi])
		}(b[c], b[c+1])
	}
	wg.Wait()
	src, dst := data, scratch
	for w := 1; w < sortChunks; w *= 2 {
		merges := sortChunks / (2 * w)
		parts := mergeParts / merges
		if parts < 1 {
			parts = 1
		}
		for c := 0; c < sortChunks; c += 2 * w {
			lo, mid, hi := b[c], b[c+w], b[c+2*w]
			for p := 0; p < parts; p++ {
				wg.Add(1)
				go func(o0, o1 int) {
					defer wg.Done()
					mergePart(src, dst, lo, mid, hi, o0, o1)
				}(lo+p*(hi-lo)/parts, lo+(p+1)*(hi-lo)/parts)
			}
		}
		wg.Wait()
		src, dst = dst, src
	}
}

// ---------------------------------------------------------------- main

type result struct {
	Bench    string             `json:"bench"`
	Size     int                `json:"size"`
	SeqMs    float64            `json:"seqMs"`
	ParMs    map[string]float64 `json:"parMs"`
	Checksum float64            `json:"checksum"`
}

func ms(f func()) float64 {
	t0 := time.Now()
	f()
	return float64(time.Since(t0).Nanoseconds()) / 1e6
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: par <mandelbrot|matmul|sort> <size>")
	}
	name := os.Args[1]
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n <= 0 {
		fail("par: bad size %q", os.Args[2])
	}
	// Each benchmark: reset the output, the sequential version, the parallel one, the result.
	var reset, seq, par func()
	var sum func() float64
	switch name {
	case "mandelbrot":
		img := make([]uint8, n*n)
		reset = func() {
			for i := range img {
				img[i] = 0
			}
		}
		seq = func() { mandelRows(img, n, n, 0, n) }
		par = func() { mandelPar(img, n) }
		sum = func() float64 { return weightedSum(img) }
	case "matmul":
		a, b, c := make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
		fillRandom(a, 1)
		fillRandom(b, 2)
		reset = func() {
			for i := range c {
				c[i] = 0
			}
		}
		seq = func() { matmulRows(a, b, c, n, 0, n) }
		par = func() { matmulPar(a, b, c, n) }
		sum = func() float64 { return weightedSum(c) }
	case "sort":
		input, data, scratch := make([]float64, n), make([]float64, n), make([]float64, n)
		fillRandom(input, 3)
		reset = func() { copy(data, input) }
		seq = func() { sort.Float64s(data) }
		par = func() { sortPar(data, scratch) }
		sum = func() float64 { return weightedSum(data) }
	default:
		fail("par: unknown benchmark %q", name)
	}
	res := result{Bench: name, Size: n, ParMs: map[string]float64{}}
	runtime.GOMAXPROCS(2)
	reset()
	par() // untimed: the first touch of every buffer, and the worker threads started
	reset()
	res.SeqMs = ms(seq)
	res.Checksum = sum()
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		reset()
		res.ParMs[strconv.Itoa(procs)] = ms(par)
		if got := sum(); got != res.Checksum {
			fail("par: %s with GOMAXPROCS=%d: checksum %v, sequential %v", name, procs, got, res.Checksum)
		}
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}
