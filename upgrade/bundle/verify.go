package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"aead.dev/minisign"

	"github.com/ros-os/ros/upgrade/progress"
)

// Policy is what a machine accepts. Zero fields switch their check off,
// except the signature check, which only Insecure switches off.
type Policy struct {
	// Keys are the trusted public keys (see LoadPublicKeys).
	Keys []PublicKey
	// Insecure accepts unsigned or wrongly signed bundles. Each bypassed
	// failure is logged to Log as a warning; callers should log the flag too.
	Insecure bool
	// Arch is the machine's GOARCH name; "" skips the arch check.
	Arch string
	// Compatible is the machine's compatible string; "" means
	// DefaultCompatible(Arch) when Arch is set, else no check.
	Compatible string
	// Current is the running version; "" skips the version checks.
	Current string
	// CurrentBuildTime orders non-semver versions (see CompareBuilds).
	CurrentBuildTime time.Time
	// Force accepts a downgrade, the same version, or a known-bad version.
	Force bool
	// Bad lists versions that failed a trial boot on this machine.
	Bad []string
	// Log receives warnings about bypassed checks; nil discards them.
	Log *slog.Logger
	// Progress, if set, is called while the payload is hashed.
	Progress func(done, total int64)
}

// Verify checks, in this order: the signature against p.Keys, the payload's
// size and sha256 against the manifest (streamed; ctx cancels it), the arch,
// the compatible string, MinVersion against p.Current, downgrade (or same
// version), and p.Bad. The first failure is returned; it wraps one of the
// sentinel errors and says why.
func (b *Bundle) Verify(ctx context.Context, p Policy) error {
	if err := b.verifySignature(p); err != nil {
		return fmt.Errorf("bundle %s: %w", b.name, err)
	}
	if err := b.verifyPayload(ctx, p.Progress); err != nil {
		return fmt.Errorf("bundle %s: %w", b.name, err)
	}
	if err := b.verifyPolicy(p); err != nil {
		return fmt.Errorf("bundle %s: %w", b.name, err)
	}
	return nil
}

func (b *Bundle) verifySignature(p Policy) error {
	err := b.checkSignature(p.Keys)
	if err != nil && p.Insecure {
		if p.Log != nil {
			p.Log.Warn("insecure: accepting bundle despite failed signature check", "bundle", b.name, "reason", err.Error())
		}
		return nil
	}
	return err
}

func (b *Bundle) checkSignature(keys []PublicKey) error {
	if b.sig == nil {
		return fmt.Errorf("%w: it has no %s", ErrUnsigned, SignatureName)
	}
	var sig minisign.Signature
	if err := sig.UnmarshalText(b.sig); err != nil {
		return fmt.Errorf("%w: %s is malformed: %w", ErrBadSignature, SignatureName, err)
	}
	id := FormatKeyID(sig.KeyID)
	i := slices.IndexFunc(keys, func(k PublicKey) bool { return k.k.ID() == sig.KeyID })
	if i < 0 {
		return fmt.Errorf("%w: signed by key %s, trusted keys: %s", ErrUnknownKey, id, describeKeys(keys))
	}
	if !minisign.Verify(keys[i].k, b.raw, b.sig) {
		return fmt.Errorf("%w: signature by key %s does not match %s", ErrBadSignature, id, ManifestName)
	}
	return nil
}

func describeKeys(keys []PublicKey) string {
	if len(keys) == 0 {
		return "none"
	}
	var s []string
	for _, k := range keys {
		if k.Source != "" {
			s = append(s, k.ID()+" ("+k.Source+")")
		} else {
			s = append(s, k.ID())
		}
	}
	return strings.Join(s, ", ")
}

func (b *Bundle) verifyPayload(ctx context.Context, report func(done, total int64)) error {
	want := b.manifest.Payload
	h := sha256.New()
	var w io.Writer = h
	if report != nil {
		w = &progress.Writer{W: h, Total: want.Size, Report: report}
	}
	buf := make([]byte, 1<<20)
	n, err := io.CopyBuffer(w, progress.Reader(ctx, b.Payload()), buf)
	if err != nil {
		return fmt.Errorf("hash payload: %w", err)
	}
	if n != want.Size {
		return fmt.Errorf("%w: payload is %d bytes, the manifest says %d", ErrSize, n, want.Size)
	}
	if report != nil {
		report(n, want.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 {
		return fmt.Errorf("%w: payload sha256 %s… does not match the manifest's %s…", ErrHash, got[:12], want.SHA256[:12])
	}
	return nil
}

func (b *Bundle) verifyPolicy(p Policy) error {
	m := b.manifest
	if p.Arch != "" && m.Arch != p.Arch {
		return fmt.Errorf("%w: it is for %s, this machine is %s", ErrArch, m.Arch, p.Arch)
	}
	compat := p.Compatible
	if compat == "" && p.Arch != "" {
		compat = DefaultCompatible(p.Arch)
	}
	if compat != "" && m.Compatible != compat {
		return fmt.Errorf("%w: it is compatible with %q, this machine is %q", ErrCompatible, m.Compatible, compat)
	}
	if p.Current != "" && m.MinVersion != "" && CompareVersions(p.Current, m.MinVersion) < 0 {
		return fmt.Errorf("%w: %s upgrades from %s or newer, running %s", ErrMinVersion, m.Version, m.MinVersion, p.Current)
	}
	if p.Current != "" && !p.Force {
		switch c := CompareBuilds(m.Version, m.BuildTime, p.Current, p.CurrentBuildTime); {
		case c == 0:
			return fmt.Errorf("%w: %s is the running version (force to reinstall it)", ErrDowngrade, m.Version)
		case c < 0:
			return fmt.Errorf("%w: %s is older than the running %s (force to downgrade)", ErrDowngrade, m.Version, p.Current)
		}
	}
	if slices.Contains(p.Bad, m.Version) && !p.Force {
		return fmt.Errorf("%w: %s failed a trial boot on this machine before (force to retry it)", ErrKnownBad, m.Version)
	}
	return nil
}
