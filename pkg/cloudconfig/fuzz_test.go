package cloudconfig

import (
	"bytes"
	"os"
	"testing"
)

// FuzzParse feeds Parse arbitrary user-data, seeded with testdata. Parse
// must not panic, and a config it accepts must export to YAML that Parse
// accepts again, unchanged and without warnings.
func FuzzParse(f *testing.F) {
	for _, in := range inputs(f) {
		data, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("#cloud-config\nros: {network: {interfaces: {eth0: {mtu: big}}}}\n"))
	f.Add(gz(f, "#cloud-config\nhostname: z\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		out, err := Export(c, true)
		if err != nil {
			t.Fatalf("Export of an accepted config: %v", err)
		}
		c2, w, err := Parse("export", out)
		if err != nil || len(w) > 0 {
			t.Fatalf("Parse(Export(c)) = %v, warnings %v\ninput: %q\nexport:\n%s", err, w, data, out)
		}
		out2, err := Export(c2, true)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("Export is not stable (%v):\n%s\nthen\n%s", err, out, out2)
		}
	})
}
