package cmdline

import (
	"reflect"
	"strings"
	"testing"
)

// parseTests are command lines and the parameters the kernel reads from
// them; FuzzParse starts from them too.
var parseTests = []struct {
	in   string
	want []Param
}{
	{"", nil},
	{"   ", nil},
	{"quiet", []Param{{Key: "quiet"}}},
	{"console=ttyS0 ros.slot=A", []Param{{"console", "ttyS0", true}, {"ros.slot", "A", true}}},
	{"a= b", []Param{{"a", "", true}, {"b", "", false}}},
	{`ros.cfg="a b c" x`, []Param{{"ros.cfg", "a b c", true}, {"x", "", false}}},
	{`"ros.cfg=a b" x`, []Param{{"ros.cfg", "a b", true}, {"x", "", false}}},
	{`k=v=w`, []Param{{"k", "v=w", true}}},
	{"a\tb\nc", []Param{{Key: "a"}, {Key: "b"}, {Key: "c"}}},
	{`k="unterminated value`, []Param{{"k", "unterminated value", true}}},
	{`k=in"side"q`, []Param{{"k", `in"side"q`, true}}},
	{"ros.live -- single", []Param{{Key: "ros.live"}, {Key: "single"}}},
	{`""`, nil},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		got := Parse(tt.in).Params()
		if len(got) == 0 {
			got = nil
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestGetHas(t *testing.T) {
	c := Parse("ros.slot=A ros.debug ros.slot=B console=ttyS0")
	tests := []struct {
		key       string
		wantValue string
		wantOK    bool
	}{
		{"ros.slot", "B", true},
		{"ros.debug", "", true},
		{"console", "ttyS0", true},
		{"ros.live", "", false},
	}
	for _, tt := range tests {
		v, ok := c.Get(tt.key)
		if v != tt.wantValue || ok != tt.wantOK {
			t.Errorf("Get(%q) = %q, %v, want %q, %v", tt.key, v, ok, tt.wantValue, tt.wantOK)
		}
		if c.Has(tt.key) != tt.wantOK {
			t.Errorf("Has(%q) = %v, want %v", tt.key, !tt.wantOK, tt.wantOK)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	in := `a "b=c d" e= f=g`
	c := Parse(in)
	if got := Parse(c.String()).Params(); !reflect.DeepEqual(got, c.Params()) {
		t.Errorf("Parse(%q) = %+v, want %+v", c.String(), got, c.Params())
	}
}

// FuzzParse checks that Parse never panics, that no key holds '=', that
// Get finds the last value of each key, and that String writes a line that
// Parse reads back the same (when no parameter holds an inner quote, which
// the kernel's syntax cannot express).
func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	for _, s := range []string{`a "b=c d" e= f=g`, "ros.slot=A ros.debug ros.slot=B console=ttyS0",
		`a="b c"`, `"a=b c"`, "ros.slot=A -- x", `k="`, `"`, "a=b=c", `"--"`, "\"--\" x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Parse(s)
		last := map[string]Param{}
		quotes := false
		for _, p := range c.Params() {
			if strings.Contains(p.Key, "=") {
				t.Fatalf("Parse(%q): key %q holds '='", s, p.Key)
			}
			if p.Key == "" && !p.HasValue {
				t.Fatalf("Parse(%q): an empty parameter %+v", s, p)
			}
			if !p.HasValue && p.Value != "" {
				t.Fatalf("Parse(%q): flag %+v has a value", s, p)
			}
			last[p.Key] = p
			quotes = quotes || strings.Contains(p.Key+p.Value, `"`)
		}
		for k, p := range last {
			if v, ok := c.Get(k); !ok || v != p.Value {
				t.Fatalf("Parse(%q).Get(%q) = %q, %v; want %q, true", s, k, v, ok, p.Value)
			}
		}
		if quotes {
			return
		}
		line := c.String()
		again := Parse(line)
		if !reflect.DeepEqual(again.Params(), c.Params()) {
			t.Fatalf("Parse(String(Parse(%q))) = %+v, want %+v", s, again.Params(), c.Params())
		}
		if again.String() != line {
			t.Fatalf("String is not stable for %q: %q then %q", s, line, again.String())
		}
	})
}
