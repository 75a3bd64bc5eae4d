package bundle

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
)

// Limits on the small entries, so a hostile file cannot make Open allocate much.
const (
	maxManifestSize  = 64 << 10
	maxSignatureSize = 4 << 10
	blockSize        = 512
	trailerSize      = 2 * blockSize // the tar end-of-archive marker
)

// Bundle is an opened bundle file whose structure has been checked. Its
// contents are not trusted until Verify succeeds.
type Bundle struct {
	name       string
	r          io.ReaderAt
	size       int64
	closer     io.Closer
	manifest   Manifest
	raw        []byte // manifest.json bytes, as signed
	sig        []byte // manifest.json.minisig, nil when unsigned
	payloadOff int64
}

// Open opens the bundle file at path and checks its structure: entry names
// and order, the manifest, the payload's size against the manifest, and that
// nothing is cut off. Errors wrap ErrFormat, ErrTruncated or ErrSize. Close
// the bundle when done.
func Open(path string) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open bundle: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open bundle: %w", err)
	}
	b, err := OpenReader(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	b.closer = f
	return b, nil
}

// OpenReader is Open over any random-access reader of size bytes; name is
// used in messages.
func OpenReader(r io.ReaderAt, size int64, name string) (*Bundle, error) {
	b := &Bundle{name: name, r: r, size: size}
	if err := b.parse(); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", name, err)
	}
	return b, nil
}

// Close closes the underlying file (a no-op for OpenReader bundles).
func (b *Bundle) Close() error {
	if b.closer == nil {
		return nil
	}
	return b.closer.Close()
}

// Name is the path or name the bundle was opened with.
func (b *Bundle) Name() string { return b.name }

// Manifest returns the bundle's manifest (unverified until Verify succeeds).
func (b *Bundle) Manifest() Manifest { return b.manifest }

// ManifestBytes returns manifest.json exactly as stored (and signed).
func (b *Bundle) ManifestBytes() []byte { return append([]byte(nil), b.raw...) }

// Signature returns manifest.json.minisig, or nil for an unsigned bundle.
func (b *Bundle) Signature() []byte { return append([]byte(nil), b.sig...) }

// Signed reports whether the bundle carries a signature.
func (b *Bundle) Signed() bool { return b.sig != nil }

// Payload returns the payload bytes inside the bundle file.
func (b *Bundle) Payload() *io.SectionReader {
	return io.NewSectionReader(b.r, b.payloadOff, b.manifest.Payload.Size)
}

// File returns the whole bundle file (for carrying it elsewhere, e.g. as an
// OCI layer).
func (b *Bundle) File() *io.SectionReader { return io.NewSectionReader(b.r, 0, b.size) }

// countingReader tracks the offset archive/tar has consumed, which after
// Next is where the entry's data starts. It is deliberately not an
// io.Seeker, so tar reads (small) entries instead of seeking over them.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (b *Bundle) parse() error {
	cr := &countingReader{r: io.NewSectionReader(b.r, 0, b.size)}
	tr := tar.NewReader(cr)

	hdr, err := next(tr, ManifestName, true)
	if err != nil {
		return err
	}
	if b.raw, err = readEntry(tr, hdr, maxManifestSize); err != nil {
		return err
	}
	if b.manifest, err = ParseManifest(b.raw); err != nil {
		return err
	}

	hdr, err = next(tr, SignatureName+" or "+PayloadName, false)
	if err != nil {
		return err
	}
	if hdr.Name == SignatureName {
		if b.sig, err = readEntry(tr, hdr, maxSignatureSize); err != nil {
			return err
		}
		if hdr, err = next(tr, PayloadName, true); err != nil {
			return err
		}
	}
	if hdr.Name != PayloadName {
		return fmt.Errorf("%w: unexpected entry %q, want %s", ErrFormat, hdr.Name, PayloadName)
	}
	b.payloadOff = cr.n
	want := b.manifest.Payload.Size
	if hdr.Size != want {
		return fmt.Errorf("%w: %s is %d bytes, the manifest says %d", ErrSize, PayloadName, hdr.Size, want)
	}
	if have := b.size - b.payloadOff; have < want {
		return fmt.Errorf("%w: %s: have %d of %d bytes", ErrTruncated, PayloadName, max(have, 0), want)
	}
	return b.checkTrailer()
}

// checkTrailer makes sure the end-of-archive marker follows the payload (a
// download cut just after the payload is still truncated) and that no other
// entry follows it.
func (b *Bundle) checkTrailer() error {
	end := b.payloadOff + b.manifest.Payload.Size
	if rem := end % blockSize; rem != 0 {
		end += blockSize - rem
	}
	buf := make([]byte, trailerSize)
	n, err := b.r.ReadAt(buf, end)
	if n < trailerSize {
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read end of archive: %w", err)
		}
		return fmt.Errorf("%w: end-of-archive marker after %s: have %d of %d bytes", ErrTruncated, PayloadName, n, trailerSize)
	}
	for _, c := range buf {
		if c != 0 {
			return fmt.Errorf("%w: unexpected data after %s", ErrFormat, PayloadName)
		}
	}
	return nil
}

// next reads the next header, which should be want (a description when
// strict is false). A missing or cut header is ErrTruncated.
func next(tr *tar.Reader, want string, strict bool) (*tar.Header, error) {
	hdr, err := tr.Next()
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("%w: %s missing", ErrTruncated, want)
	case err != nil:
		return nil, fmt.Errorf("%w: reading %s: %w", ErrFormat, want, err)
	case hdr.Typeflag != tar.TypeReg:
		return nil, fmt.Errorf("%w: entry %q is not a regular file", ErrFormat, hdr.Name)
	case strict && hdr.Name != want:
		return nil, fmt.Errorf("%w: unexpected entry %q, want %s", ErrFormat, hdr.Name, want)
	}
	return hdr, nil
}

func readEntry(tr *tar.Reader, hdr *tar.Header, limit int64) ([]byte, error) {
	if hdr.Size > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrFormat, hdr.Name, hdr.Size, limit)
	}
	data := make([]byte, hdr.Size)
	if n, err := io.ReadFull(tr, data); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: %s: have %d of %d bytes", ErrTruncated, hdr.Name, n, hdr.Size)
		}
		return nil, fmt.Errorf("read %s: %w", hdr.Name, err)
	}
	return data, nil
}
