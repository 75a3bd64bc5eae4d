package assemble

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// benchImage is an image of n files of size bytes each (incompressible),
// in two layers.
func benchImage(b *testing.B, label string, n, size int) v1.Image {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	var lower, upper []fe
	lower = append(lower, dir("usr"), dir("usr/lib"))
	upper = append(upper, dir("usr"), dir("usr/lib"))
	for i := 0; i < n; i++ {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		e := file(fmt.Sprintf("usr/lib/f%04d", i), string(data))
		if i%4 == 0 {
			upper = append(upper, e)
		} else {
			lower = append(lower, e)
		}
	}
	return fakeImage(b, label, v1.Config{Cmd: []string{"/usr/bin/x"}}, layerTar(b, lower...), layerTar(b, upper...))
}

// BenchmarkBuild assembles a kernel, an init image of 4 MiB and three
// services of 1 MiB each (about 7 MiB of tree) into io.Discard.
func BenchmarkBuild(b *testing.B) {
	imgs := map[string]v1.Image{
		"docker.io/ros/kernel:1": kernelImage(b),
		"docker.io/ros/init:1":   benchImage(b, "", 256, 16<<10),
		"docker.io/ros/a:1":      benchImage(b, `{"readonly": true}`, 64, 16<<10),
		"docker.io/ros/b:1":      benchImage(b, `{"capabilities": ["CAP_NET_ADMIN"]}`, 64, 16<<10),
		"docker.io/ros/c:1":      benchImage(b, "", 64, 16<<10),
	}
	cfg := parse(b, "bench.yml", `kernel:
  image: ros/kernel:1
init:
  - ros/init:1
services:
  - name: a
    image: ros/a:1
  - name: b
    image: ros/b:1
  - name: c
    image: ros/c:1
`)
	src := &fakeSource{images: imgs}
	var n int64
	w := countWriter{&n}
	if err := Build(context.Background(), cfg, src, w, Options{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n)
	b.ResetTimer()
	for b.Loop() {
		if err := Build(context.Background(), cfg, src, io.Discard, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter struct{ n *int64 }

func (c countWriter) Write(p []byte) (int, error) {
	*c.n += int64(len(p))
	return len(p), nil
}
