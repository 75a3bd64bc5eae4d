package state

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkOpen measures Open+Close of an existing store (a boot).
func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	for b.Loop() {
		s, err := Open(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkOpenNew measures creating a store (first boot).
func BenchmarkOpenNew(b *testing.B) {
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		s, err := Open(ctx, fmt.Sprintf("%s/%d", b.TempDir(), i))
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkAddEvent measures one durable write.
func BenchmarkAddEvent(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if _, err := s.AddEvent(ctx, "bench", "x", "a message of ordinary length"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServiceOverrides measures one read.
func BenchmarkServiceOverrides(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for _, n := range []string{"a", "b", "c"} {
		if err := s.SetServiceEnabled(ctx, n, true); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := s.ServiceOverrides(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
