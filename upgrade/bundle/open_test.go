package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
)

type entry struct {
	name string
	data []byte
}

// rawTar builds a tar from entries, for bundles Create would never write.
func rawTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Size: int64(len(e.data)), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func manifestJSON(t testing.TB, m Manifest) []byte {
	t.Helper()
	m.Format = FormatVersion
	if m.Compatible == "" {
		m.Compatible = DefaultCompatible(m.Arch)
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestOpenRefuses(t *testing.T) {
	priv, _ := testKey(t)
	good := makeBundle(t, testManifest("v2"), 5000, priv)
	b, err := openBytes(good)
	if err != nil {
		t.Fatalf("Open(good bundle): %v", err)
	}
	sigHdr := 512 + (len(b.raw)+511)/512*512
	payloadHdr := int(b.payloadOff) - 512
	payloadEnd := int(b.payloadOff) + 5000

	m := testManifest("v2")
	m.Payload = PayloadInfo{Size: 10, SHA256: strings.Repeat("ab", 32)}
	mj := manifestJSON(t, m)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(good); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	junk := bytes.Repeat([]byte("not a bundle "), 200)

	tests := []struct {
		name string
		data []byte
		want error
		says string // the message names the missing or bad part
	}{
		{"empty file", nil, ErrTruncated, ManifestName},
		{"cut in manifest header", good[:100], ErrTruncated, ManifestName},
		{"cut in manifest", good[:600], ErrTruncated, ManifestName},
		{"cut before signature", good[:sigHdr], ErrTruncated, PayloadName},
		{"cut in signature", good[:sigHdr+520], ErrTruncated, SignatureName},
		{"cut before payload", good[:payloadHdr], ErrTruncated, PayloadName},
		{"cut in payload header", good[:payloadHdr+100], ErrTruncated, PayloadName},
		{"cut in payload", good[:payloadEnd-1000], ErrTruncated, "have 4000 of 5000 bytes"},
		{"cut after payload", good[:payloadEnd], ErrTruncated, "end-of-archive"},
		{"cut in end marker", good[:len(good)-100], ErrTruncated, "end-of-archive"},
		{"garbage", junk, ErrFormat, ManifestName},
		{"gzipped bundle", gz.Bytes(), ErrFormat, ManifestName},
		{"wrong first entry", rawTar(t, entry{PayloadName, []byte("x")}), ErrFormat, ManifestName},
		{"bad manifest json", rawTar(t, entry{ManifestName, []byte("{")}, entry{PayloadName, make([]byte, 10)}), ErrFormat, ManifestName},
		{"manifest format 2", rawTar(t, entry{ManifestName, bytes.Replace(mj, []byte(`"format": 1`), []byte(`"format": 2`), 1)}, entry{PayloadName, make([]byte, 10)}), ErrFormat, "format"},
		{"huge manifest", rawTar(t, entry{ManifestName, make([]byte, maxManifestSize+1)}), ErrFormat, "limit"},
		{"unknown second entry", rawTar(t, entry{ManifestName, mj}, entry{"evil", make([]byte, 10)}), ErrFormat, "evil"},
		{"two signatures", rawTar(t, entry{ManifestName, mj}, entry{SignatureName, []byte("x")}, entry{SignatureName, []byte("x")}), ErrFormat, SignatureName},
		{"payload size differs", rawTar(t, entry{ManifestName, mj}, entry{PayloadName, make([]byte, 11)}), ErrSize, "manifest says 10"},
		{"entry after payload", rawTar(t, entry{ManifestName, mj}, entry{PayloadName, make([]byte, 10)}, entry{"more", []byte("x")}), ErrFormat, "after " + PayloadName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := openBytes(tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open(%s) = %v, want %v", tt.name, err, tt.want)
			}
			if b != nil {
				t.Errorf("Open(%s) returned a bundle with an error", tt.name)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Open(%s) = %q, want it to mention %q", tt.name, err, tt.says)
			}
		})
	}
}

func TestOpenMissingFile(t *testing.T) {
	if _, err := Open(t.TempDir() + "/none.bundle"); err == nil {
		t.Errorf("Open(missing) = nil error, want one")
	}
}

// FuzzOpen: Open never panics, fails only with its sentinels, and a bundle
// it accepts is self-consistent.
func FuzzOpen(f *testing.F) {
	priv, pub := testKey(f)
	good := makeBundle(f, testManifest("v2"), 700, priv)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(makeBundle(f, testManifest("v3"), 1, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := openBytes(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrSize) {
				t.Fatalf("Open() = %v, want ErrFormat, ErrTruncated or ErrSize", err)
			}
			return
		}
		m := b.Manifest()
		if m.Validate() != nil || b.Payload().Size() != m.Payload.Size {
			t.Fatalf("Open() accepted an inconsistent bundle: %+v", m)
		}
		if b.payloadOff+m.Payload.Size > int64(len(data)) {
			t.Fatalf("payload runs past the end of the file")
		}
		err = b.Verify(t.Context(), Policy{Keys: []PublicKey{pub}, Arch: "amd64", Current: "v1"})
		if err == nil {
			return
		}
		for _, sentinel := range []error{ErrUnsigned, ErrUnknownKey, ErrBadSignature, ErrSize, ErrHash,
			ErrArch, ErrCompatible, ErrDowngrade, ErrMinVersion, ErrKnownBad} {
			if errors.Is(err, sentinel) {
				return
			}
		}
		t.Fatalf("Verify() = %v, want nil or one of the sentinel errors", err)
	})
}
