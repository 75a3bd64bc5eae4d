package grubenv

import (
	"errors"
	"reflect"
	"testing"
)

// Fuzz targets for the block reader and writer, seeded from the table
// tests: the round-trip variables, the bad blocks, and the damaged blocks
// checked against grub-editenv.

// roundTripVars are the variables of TestRoundTrip and the GRUB
// compatibility tests.
var roundTripVars = [][]Var{
	nil,
	{{"ros_good", "A"}, {"ros_try", "B"}, {"ros_tries", "1"}},
	{{"ros_try", ""}},
	{{"v", `a\b` + "\n" + `c\`}, {"w", "x=y # z"}},
	{{"ros_cmdline_A", "console=tty0 console=ttyS0,115200n8 panic=5 quiet"}},
	compatVars,
}

// seedBlocks adds every block the table tests use, good and bad.
func seedBlocks(f *testing.F) {
	for _, vars := range roundTripVars {
		e, err := New(vars...)
		if err != nil {
			f.Fatal(err)
		}
		b, err := e.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, b := range looseCases() {
		f.Add(b)
	}
	f.Add([]byte(nil))
	f.Add([]byte(Header + "a=b\n"))
	f.Add(pad(Header + "abc\n"))
	f.Add(pad(Header + "ab\nc=d\n"))
	f.Add(append(pad(Header + "a=")[:Size-1], '\\'))
	f.Add(pad(Header + "a=b\x00\n"))
	f.Add(pad(Header + "# comment\na=1\n#x=2\nb=\\#\n"))
	f.Add(pad(Header + "a=1\nb=2\na=3\n"))
}

// FuzzRoundTrip sets two variables and marshals them: the block is Size
// bytes and both readers give back exactly what was set. (WriteFile writes
// these bytes; TestWriteFileInPlace covers the file itself, kept out of
// here because its fsync would cut the fuzzer to a few dozen execs a
// second.)
func FuzzRoundTrip(f *testing.F) {
	for _, vars := range roundTripVars {
		var n1, v1, n2, v2 string
		if len(vars) > 0 {
			n1, v1 = vars[0].Name, vars[0].Value
		}
		if len(vars) > 1 {
			n2, v2 = vars[1].Name, vars[1].Value
		}
		f.Add(n1, v1, n2, v2)
	}
	f.Add("a", "x\\y\nz", "b", "#")
	f.Add("a", "1", "a", "2")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		var e Env
		if e.Set(n1, v1) != nil || e.Set(n2, v2) != nil {
			return
		}
		b, err := e.Marshal()
		if errors.Is(err, ErrFull) {
			return
		}
		if err != nil {
			t.Fatalf("Marshal() = %v", err)
		}
		if len(b) != Size {
			t.Fatalf("len(Marshal()) = %d, want %d", len(b), Size)
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal()) = %v", err)
		}
		if !reflect.DeepEqual(got.Vars(), e.Vars()) {
			t.Fatalf("Parse(Marshal()) = %q, want %q", got.Vars(), e.Vars())
		}
		loose, err := ParseLoose(b)
		if err != nil || !reflect.DeepEqual(loose.Vars(), e.Vars()) {
			t.Fatalf("ParseLoose(Marshal()) = %v, %v; want %q", loose, err, e.Vars())
		}
	})
}

// FuzzParse checks that Parse never panics, that a block it accepts writes
// back as Size bytes that read the same, and that GRUB's lenient reading
// (ParseLoose) agrees on every block Parse accepts.
func FuzzParse(f *testing.F) {
	seedBlocks(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse() = %v, want an error wrapping ErrInvalid", err)
			}
			return
		}
		out, err := e.Marshal()
		if err != nil {
			t.Fatalf("Marshal() of a parsed block = %v", err)
		}
		if len(out) != Size {
			t.Fatalf("len(Marshal(Parse(b))) = %d, want %d", len(out), Size)
		}
		again, err := Parse(out)
		if err != nil || !reflect.DeepEqual(again.Vars(), e.Vars()) {
			t.Fatalf("Parse(Marshal(Parse(b))) = %v, %v; want %q", again, err, e.Vars())
		}
		loose, err := ParseLoose(b)
		if err != nil || !reflect.DeepEqual(loose.Vars(), e.Vars()) {
			t.Fatalf("ParseLoose(b) = %v, %v; Parse(b) = %q", loose, err, e.Vars())
		}
	})
}

// FuzzParseLoose checks that the lenient reader never panics, keeps only
// variables Set accepts, and that what it read from a block of at most Size
// bytes always fits a block again and reads back the same.
func FuzzParseLoose(f *testing.F) {
	seedBlocks(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseLoose(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseLoose() = %v, want an error wrapping ErrInvalid", err)
			}
			return
		}
		for _, v := range e.Vars() {
			var probe Env
			if err := probe.Set(v.Name, v.Value); err != nil {
				t.Fatalf("ParseLoose() kept %q=%q, which Set refuses: %v", v.Name, v.Value, err)
			}
		}
		out, err := e.Marshal()
		if errors.Is(err, ErrFull) && len(b) > Size {
			return
		}
		if err != nil {
			t.Fatalf("Marshal(ParseLoose(%d bytes)) = %v", len(b), err)
		}
		if len(out) != Size {
			t.Fatalf("len(Marshal(ParseLoose(b))) = %d, want %d", len(out), Size)
		}
		again, err := Parse(out)
		if err != nil || !reflect.DeepEqual(again.Vars(), e.Vars()) {
			t.Fatalf("Parse(Marshal(ParseLoose(b))) = %v, %v; want %q", again, err, e.Vars())
		}
	})
}
