package bundle

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
)

func TestVerify(t *testing.T) {
	priv, pub := testKey(t)
	_, other := testKey(t)
	good := makeBundle(t, testManifest("v2"), 3000, priv)
	unsigned := makeBundle(t, testManifest("v2"), 3000, nil)
	b, err := openBytes(good)
	if err != nil {
		t.Fatal(err)
	}
	payloadOff := int(b.payloadOff)

	flipped := bytes.Clone(good)
	flipped[payloadOff+1234] ^= 0x01

	// Same-length edit of the signed manifest: still parses, no longer matches.
	edited := bytes.Replace(good, []byte(`"console=ttyS0 panic=5"`), []byte(`"console=ttyS0 panic=0"`), 1)
	if bytes.Equal(edited, good) {
		t.Fatal("test setup: manifest edit did not apply")
	}
	// A well-formed signature of other bytes, by the right key.
	otherSig := bytes.Clone(good)
	var parsed minisign.Signature
	if err := parsed.UnmarshalText(b.sig); err != nil {
		t.Fatal(err)
	}
	r := minisign.NewReader(strings.NewReader("something else"))
	if _, err := r.Read(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	sig := r.SignWithComments(priv.k, parsed.TrustedComment, parsed.UntrustedComment)
	start := bytes.Index(otherSig, b.sig)
	if start < 0 || len(sig) != len(b.sig) {
		t.Fatalf("test setup: signature sizes %d vs %d", len(sig), len(b.sig))
	}
	copy(otherSig[start:], sig)
	// Malformed signature text.
	garbledSig := bytes.Clone(good)
	copy(garbledSig[start:], bytes.Repeat([]byte("!"), 40))

	withMin := testManifest("v3")
	withMin.MinVersion = "v2"
	arm := testManifest("v2")
	arm.Arch = "arm64"
	odd := testManifest("v2")
	odd.Compatible = "ros-amd64-rpi"

	keys := []PublicKey{other, pub}
	base := Policy{Keys: keys, Arch: "amd64", Current: "v1"}
	with := func(f func(*Policy)) Policy { p := base; f(&p); return p }

	tests := []struct {
		name   string
		bundle []byte
		p      Policy
		want   error
		says   string
	}{
		{"good", good, base, nil, ""},
		{"good, no version checks", good, Policy{Keys: keys}, nil, ""},
		{"unsigned", unsigned, base, ErrUnsigned, SignatureName},
		{"unsigned, insecure", unsigned, with(func(p *Policy) { p.Insecure = true }), nil, ""},
		{"flipped byte in payload", flipped, base, ErrHash, "does not match the manifest's"},
		{"flipped byte, insecure", flipped, with(func(p *Policy) { p.Insecure = true }), ErrHash, ""},
		{"edited manifest", edited, base, ErrBadSignature, "does not match"},
		{"signature of other bytes", otherSig, base, ErrBadSignature, "does not match"},
		{"malformed signature", garbledSig, base, ErrBadSignature, "malformed"},
		{"bad signature, insecure", edited, with(func(p *Policy) { p.Insecure = true }), nil, ""},
		{"unknown key", good, with(func(p *Policy) { p.Keys = []PublicKey{other} }), ErrUnknownKey, other.ID()},
		{"no trusted keys", good, with(func(p *Policy) { p.Keys = nil }), ErrUnknownKey, "none"},
		{"unknown key, insecure", good, with(func(p *Policy) { p.Keys = nil; p.Insecure = true }), nil, ""},
		{"wrong arch", makeBundle(t, arm, 100, priv), base, ErrArch, "arm64"},
		{"incompatible", makeBundle(t, odd, 100, priv), base, ErrCompatible, "ros-amd64-rpi"},
		{"explicit compatible", makeBundle(t, odd, 100, priv), with(func(p *Policy) { p.Compatible = "ros-amd64-rpi" }), nil, ""},
		{"downgrade", good, with(func(p *Policy) { p.Current = "v3" }), ErrDowngrade, "older than the running v3"},
		{"downgrade, force", good, with(func(p *Policy) { p.Current = "v3"; p.Force = true }), nil, ""},
		{"same version", good, with(func(p *Policy) { p.Current = "v2" }), ErrDowngrade, "is the running version"},
		{"same version, force", good, with(func(p *Policy) { p.Current = "v2"; p.Force = true }), nil, ""},
		{"min version", makeBundle(t, withMin, 100, priv), base, ErrMinVersion, "upgrades from v2 or newer, running v1"},
		{"min version met", makeBundle(t, withMin, 100, priv), with(func(p *Policy) { p.Current = "v2" }), nil, ""},
		{"min version, force", makeBundle(t, withMin, 100, priv), with(func(p *Policy) { p.Force = true }), ErrMinVersion, ""},
		{"known bad", good, with(func(p *Policy) { p.Bad = []string{"v2"} }), ErrKnownBad, "failed a trial boot"},
		{"known bad, force", good, with(func(p *Policy) { p.Bad = []string{"v2"}; p.Force = true }), nil, ""},
		{"non-semver by build time", good, with(func(p *Policy) {
			p.Current = "custom-build"
			p.CurrentBuildTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		}), ErrDowngrade, "older"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := openBytes(tt.bundle)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			err = b.Verify(context.Background(), tt.p)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify(%s) = %v, want %v", tt.name, err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Verify(%s) = %q, want it to mention %q", tt.name, err, tt.says)
			}
			if err != nil && !strings.Contains(err.Error(), "test.bundle") {
				t.Errorf("Verify(%s) = %q, want it to name the bundle", tt.name, err)
			}
		})
	}
}

func TestVerifyOrder(t *testing.T) {
	// A bundle failing several checks reports the earliest in the documented order.
	priv, _ := testKey(t)
	arm := testManifest("v1")
	arm.Arch = "arm64"
	data := makeBundle(t, arm, 100, priv)
	b, _ := openBytes(data)
	data[b.payloadOff] ^= 0xff
	b, _ = openBytes(data)
	err := b.Verify(context.Background(), Policy{Arch: "amd64", Current: "v2"})
	if !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Verify(unknown key, bad hash, arm64, downgrade) = %v, want ErrUnknownKey first", err)
	}
	err = b.Verify(context.Background(), Policy{Insecure: true, Arch: "amd64", Current: "v2"})
	if !errors.Is(err, ErrHash) {
		t.Errorf("Verify(insecure; bad hash, arm64, downgrade) = %v, want ErrHash", err)
	}
}

func TestVerifyCancel(t *testing.T) {
	priv, pub := testKey(t)
	b, err := openBytes(makeBundle(t, testManifest("v2"), 3<<20, priv))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var calls int
	err = b.Verify(ctx, Policy{Keys: []PublicKey{pub}, Progress: func(done, total int64) {
		calls++
		cancel() // cancel after the first MiB
	}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Verify(cancelled) = %v, want context.Canceled", err)
	}
	if calls != 1 {
		t.Errorf("Verify(cancelled) reported progress %d times, want 1", calls)
	}
}

func TestVerifyProgress(t *testing.T) {
	priv, pub := testKey(t)
	b, err := openBytes(makeBundle(t, testManifest("v2"), 3<<20+5, priv))
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	err = b.Verify(context.Background(), Policy{Keys: []PublicKey{pub}, Progress: func(done, total int64) {
		got = append(got, done)
		if total != 3<<20+5 {
			t.Errorf("progress total = %d, want %d", total, 3<<20+5)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[len(got)-1] != 3<<20+5 {
		t.Errorf("progress calls = %v, want 3 per-MiB calls then the total", got)
	}
}
