package fetch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFetchFile(t *testing.T) {
	dir := t.TempDir()
	data := randomData(2<<20+77, 9)
	src := filepath.Join(dir, "src.bundle")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{src, "file://" + src} {
		dst := filepath.Join(t.TempDir(), "ros.bundle")
		var calls []int64
		err := Fetch(context.Background(), s, dst, Options{Size: int64(len(data)), SHA256: sum(data),
			Progress: func(done, total int64) { calls = append(calls, done) }})
		if err != nil {
			t.Fatalf("Fetch(%s): %v", s, err)
		}
		checkDone(t, dst, data)
		checkProgress(t, calls, int64(len(data)))
	}

	// src is dst: nothing to copy, still checked.
	if err := Fetch(context.Background(), src, src, Options{SHA256: sum(data)}); err != nil {
		t.Errorf("Fetch(src, src) = %v, want nil", err)
	}
	if err := Fetch(context.Background(), src, src, Options{SHA256: sum(nil)}); !errors.Is(err, ErrHash) {
		t.Errorf("Fetch(src, src, wrong sha256) = %v, want ErrHash", err)
	}
}

func TestFetchFileRefusals(t *testing.T) {
	dir := t.TempDir()
	data := randomData(1000, 10)
	src := filepath.Join(dir, "src.bundle")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		src  string
		o    Options
		want error
	}{
		{"missing", filepath.Join(dir, "none.bundle"), Options{}, ErrNotFound},
		{"wrong size", src, Options{Size: 999}, ErrSize},
		{"wrong hash", src, Options{SHA256: sum([]byte("x"))}, ErrHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "ros.bundle")
			err := Fetch(context.Background(), tt.src, dst, tt.o)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Fetch(%s) = %v, want %v", tt.name, err, tt.want)
			}
			for _, p := range []string{dst, dst + ".part"} {
				if _, err := os.Stat(p); !os.IsNotExist(err) {
					t.Errorf("Fetch(%s) left %s", tt.name, p)
				}
			}
		})
	}
}

func TestFetchFileCancel(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.bundle")
	if err := os.WriteFile(src, randomData(3<<20, 11), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	dst := filepath.Join(dir, "ros.bundle")
	err := Fetch(ctx, src, dst, Options{Progress: func(done, total int64) {
		if done > 0 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch(cancelled) = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("cancelled Fetch created %s", dst)
	}
}
