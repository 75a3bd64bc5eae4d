package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"aead.dev/minisign"

	"github.com/ros-os/ros/upgrade/progress"
)

// Names of the bundle's tar entries, in the order they appear.
const (
	ManifestName  = "manifest.json"
	SignatureName = "manifest.json.minisig"
	PayloadName   = "payload.squashfs"
)

// MediaType is the OCI media type of a bundle file carried as an image layer.
const MediaType = "application/vnd.ros.bundle.v1.tar"

// Create writes a bundle to w: manifest.json, its minisign signature (unless
// key is nil: an unsigned bundle), then the payload file. Create fills in
// m.Format, m.Payload, an unset m.BuildTime (now, UTC, to the second) and an
// unset m.Compatible (ros-<arch>), and returns the manifest it wrote. The
// payload is read twice: once to hash it, once to copy it.
func Create(ctx context.Context, w io.Writer, payload string, m Manifest, key *PrivateKey) (Manifest, error) {
	f, err := os.Open(payload)
	if err != nil {
		return Manifest{}, fmt.Errorf("create bundle: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, progress.Reader(ctx, f))
	if err != nil {
		return Manifest{}, fmt.Errorf("create bundle: hash %s: %w", payload, err)
	}
	m.Format = FormatVersion
	m.Payload = PayloadInfo{Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}
	if m.BuildTime.IsZero() {
		m.BuildTime = time.Now().UTC().Truncate(time.Second)
	}
	if m.Compatible == "" {
		m.Compatible = DefaultCompatible(m.Arch)
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, fmt.Errorf("create bundle: %w", err)
	}
	data, err := m.Marshal()
	if err != nil {
		return Manifest{}, fmt.Errorf("create bundle: %w", err)
	}

	tw := tar.NewWriter(w)
	add := func(name string, size int64, r io.Reader) error {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644,
			ModTime: m.BuildTime, Format: tar.FormatUnknown,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("create bundle: %s: %w", name, err)
		}
		if n, err := io.Copy(tw, r); err != nil {
			return fmt.Errorf("create bundle: %s: %w", name, err)
		} else if n != size {
			return fmt.Errorf("create bundle: %s changed while writing: %d bytes, hashed %d", name, n, size)
		}
		return nil
	}
	if err := add(ManifestName, int64(len(data)), bytes.NewReader(data)); err != nil {
		return Manifest{}, err
	}
	if key != nil {
		sig := sign(key, m, data)
		if err := add(SignatureName, int64(len(sig)), bytes.NewReader(sig)); err != nil {
			return Manifest{}, err
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Manifest{}, fmt.Errorf("create bundle: %w", err)
	}
	if err := add(PayloadName, size, progress.Reader(ctx, f)); err != nil {
		return Manifest{}, err
	}
	if err := tw.Close(); err != nil {
		return Manifest{}, fmt.Errorf("create bundle: %w", err)
	}
	return m, nil
}

// CreateFile writes a bundle to path (through path+".tmp" and a rename).
func CreateFile(ctx context.Context, path, payload string, m Manifest, key *PrivateKey) (Manifest, error) {
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return Manifest{}, fmt.Errorf("create bundle: %w", err)
	}
	defer os.Remove(tmp)
	m, err = Create(ctx, out, payload, m, key)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("create bundle: %w", cerr)
	}
	if err != nil {
		return Manifest{}, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return Manifest{}, fmt.Errorf("create bundle: %w", err)
	}
	return m, nil
}

// sign makes a minisign signature (prehashed, as minisign ≥0.8 does) of the
// manifest bytes; the trusted comment names the version and arch.
func sign(key *PrivateKey, m Manifest, data []byte) []byte {
	r := minisign.NewReader(bytes.NewReader(data))
	_, _ = io.Copy(io.Discard, r) // reading from memory cannot fail
	trusted := fmt.Sprintf("timestamp:%d\tfile:ros-%s-%s.bundle", m.BuildTime.Unix(), m.Version, m.Arch)
	return r.SignWithComments(key.k, trusted, "signature from ros secret key "+key.ID())
}
