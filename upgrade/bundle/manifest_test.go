package bundle

import (
	"errors"
	"strings"
	"testing"
)

func TestParseManifest(t *testing.T) {
	sha := strings.Repeat("0a", 32)
	valid := `{"format":1,"version":"v2","arch":"amd64","compatible":"ros-amd64","buildTime":"2025-01-02T03:04:05Z","cmdline":"console=ttyS0","payload":{"size":10,"sha256":"` + sha + `"}`
	tests := []struct {
		name string
		json string
		says string // "" = valid
	}{
		{"valid", valid + "}", ""},
		{"unknown field ignored", valid + `,"future":true}`, ""},
		{"not json", "{", "manifest.json"},
		{"format 0", strings.Replace(valid, `"format":1`, `"format":0`, 1) + "}", "format"},
		{"no version", strings.Replace(valid, `"version":"v2"`, `"version":""`, 1) + "}", "version"},
		{"version with space", strings.Replace(valid, `"version":"v2"`, `"version":"v 2"`, 1) + "}", "version"},
		{"arch uppercase", strings.Replace(valid, `"arch":"amd64"`, `"arch":"AMD64"`, 1) + "}", "arch"},
		{"no compatible", strings.Replace(valid, `"compatible":"ros-amd64"`, `"compatible":""`, 1) + "}", "compatible"},
		{"cmdline newline", strings.Replace(valid, `"cmdline":"console=ttyS0"`, `"cmdline":"a\nb"`, 1) + "}", "cmdline"},
		{"cmdline too long", strings.Replace(valid, `"cmdline":"console=ttyS0"`, `"cmdline":"`+strings.Repeat("a", 600)+`"`, 1) + "}", "cmdline"},
		{"size zero", strings.Replace(valid, `"size":10`, `"size":0`, 1) + "}", "payload.size"},
		{"sha256 uppercase", strings.Replace(valid, sha, strings.ToUpper(sha), 1) + "}", "payload.sha256"},
		{"sha256 short", strings.Replace(valid, sha, "abc", 1) + "}", "payload.sha256"},
		{"bad min version", valid + `,"minVersion":"v1;rm"}`, "minVersion"},
		{"bad time", strings.Replace(valid, "2025-01-02T03:04:05Z", "yesterday", 1) + "}", "manifest.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tt.json))
			if tt.says == "" {
				if err != nil {
					t.Fatalf("ParseManifest(%s) = %v, want no error", tt.name, err)
				}
				if m.Version != "v2" || m.Payload.Size != 10 || m.Payload.SHA256 != sha {
					t.Errorf("ParseManifest(%s) = %+v, want v2 with a 10-byte payload", tt.name, m)
				}
				return
			}
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("ParseManifest(%s) = %v, want ErrFormat naming %q", tt.name, err, tt.says)
			}
		})
	}
}

// FuzzManifest: ParseManifest never panics, and what it accepts survives a
// Marshal/Parse round trip unchanged.
func FuzzManifest(f *testing.F) {
	m := testManifest("v2")
	m.Format, m.Compatible = 1, "ros-amd64"
	m.MinVersion = "v1.0.0-rc.1"
	m.Payload = PayloadInfo{Size: 42, SHA256: strings.Repeat("5f", 32)}
	seed, err := m.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("ParseManifest() = %v, want ErrFormat", err)
			}
			return
		}
		again, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal(accepted manifest): %v", err)
		}
		m2, err := ParseManifest(again)
		if err != nil {
			t.Fatalf("ParseManifest(Marshal(m)) = %v for %+v", err, m)
		}
		if !m2.BuildTime.Equal(m.BuildTime) {
			t.Fatalf("round trip changed the build time: %v vs %v", m2.BuildTime, m.BuildTime)
		}
		m2.BuildTime = m.BuildTime
		if m2 != m {
			t.Fatalf("round trip changed the manifest: %+v vs %+v", m2, m)
		}
	})
}
