package grubenv

import (
	"fmt"
	"hash/crc32"
	"reflect"
	"testing"
)

func TestSum(t *testing.T) {
	a, _ := New(Var{"x", "1"}, Var{"y", "2"}, Var{"s", "ignored"})
	b, _ := New(Var{"y", "2"}, Var{"x", "1"})
	if got, want := a.Sum("s"), b.Sum(); got != want {
		t.Errorf("Sum() depends on order or skipped vars: %s != %s", got, want)
	}
	// Pinned: the sum is part of the on-disk format.
	want := fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte("x\x001\x00y\x002\x00")))
	if got := b.Sum(); got != want {
		t.Errorf("Sum() = %s, want %s", got, want)
	}
	for _, tt := range []struct {
		name string
		vars []Var
	}{
		{"value changed", []Var{{"x", "1"}, {"y", "3"}}},
		{"name changed", []Var{{"x", "1"}, {"z", "2"}}},
		{"boundary moved", []Var{{"x1", ""}, {"y", "2"}}},
		{"var added", []Var{{"x", "1"}, {"y", "2"}, {"z", ""}}},
		{"var removed", []Var{{"x", "1"}}},
	} {
		e, err := New(tt.vars...)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Sum(); got == want {
			t.Errorf("%s: Sum(%v) = %s, the same as for x=1 y=2", tt.name, tt.vars, got)
		}
	}
	// Sum of a block read back equals the sum written.
	out, _ := a.Marshal()
	back, err := Parse(out)
	if err != nil || back.Sum("s") != a.Sum("s") {
		t.Errorf("Parse(Marshal()).Sum() = %v, %v; want %s", back, err, a.Sum("s"))
	}
}

func TestSetFirstLast(t *testing.T) {
	e, _ := New(Var{"a", "1"}, Var{"b", "2"}, Var{"c", "3"})
	if err := e.SetFirst("c", "x"); err != nil {
		t.Fatal(err)
	}
	if err := e.SetLast("a", "y"); err != nil {
		t.Fatal(err)
	}
	if err := e.SetFirst("new", "n"); err != nil {
		t.Fatal(err)
	}
	want := []Var{{"new", "n"}, {"c", "x"}, {"b", "2"}, {"a", "y"}}
	if got := e.Vars(); !reflect.DeepEqual(got, want) {
		t.Errorf("Vars() = %v, want %v", got, want)
	}
	if err := e.SetLast("", "v"); err == nil {
		t.Errorf("SetLast(\"\") = nil, want an error")
	}
}
