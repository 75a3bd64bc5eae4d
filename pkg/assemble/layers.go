package assemble

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// layerOpener opens one layer as an uncompressed tar stream.
type layerOpener func() (io.ReadCloser, error)

// entryFilter rewrites or drops an image entry before it is merged. It
// returns the header to use, the replacement contents (nil to keep the
// entry's own data), and false to drop the entry. name is the cleaned name.
type entryFilter func(name string, h *tar.Header) (*tar.Header, []byte, bool)

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
	// overridden marks a path whose entries in every layer lose to a files
	// entry written later.
	overridden = -1
)

// overlay merges a stack of layers (lowest first) the way overlayfs and
// container runtimes do: a later entry replaces an earlier one at the same
// path, whiteouts (.wh.name) delete a path and everything below it in lower
// layers, an opaque marker (.wh..wh..opq) hides a directory's lower contents,
// and a non-directory hides everything below its path in lower layers.
//
// It reads the layers twice: the first pass records, per path, the entry
// that wins and the highest layer deleting it; the second pass writes each
// winning entry once, in layer order, so that lower layers' directories come
// before their children and nothing is buffered.
type overlay struct {
	layers []layerOpener
	filter entryFilter
	prefix string // where the merged tree goes, e.g. "containers/services/sshd/rootfs"

	last   map[string]int // path -> sequence number of the winning entry
	layer  map[string]int // path -> layer of the winning entry
	isDir  map[string]bool
	dirHdr map[string]*tar.Header // winning directory headers
	wh     map[string]int         // path -> highest layer whiting it out
	opq    map[string]int         // dir -> highest layer making it opaque
	nd     map[string]int         // path -> highest layer holding a non-directory there
}

func newOverlay(layers []layerOpener, filter entryFilter, prefix string) *overlay {
	return &overlay{
		layers: layers, filter: filter, prefix: prefix,
		last: map[string]int{}, layer: map[string]int{}, isDir: map[string]bool{},
		dirHdr: map[string]*tar.Header{}, wh: map[string]int{}, opq: map[string]int{}, nd: map[string]int{},
	}
}

// walk calls fn for every entry of every layer, in order, with the entry's
// global sequence number. fn gets the filtered header and replacement data.
func (o *overlay) walk(ctx context.Context, fn func(layer, seq int, name string, h *tar.Header, data []byte, r io.Reader) error) error {
	seq := 0
	for i, open := range o.layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		rc, err := open()
		if err != nil {
			return fmt.Errorf("open layer %d: %w", i, err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rc.Close()
				return fmt.Errorf("read layer %d: %w", i, err)
			}
			seq++
			name := cleanName(h.Name)
			if name == "" {
				continue
			}
			var data []byte
			if o.filter != nil && !isWhiteout(name) {
				var keep bool
				h, data, keep = o.filter(name, h)
				if !keep {
					continue
				}
			}
			if err := fn(i, seq, name, h, data, tr); err != nil {
				rc.Close()
				return err
			}
		}
		if err := rc.Close(); err != nil {
			return fmt.Errorf("close layer %d: %w", i, err)
		}
	}
	return nil
}

func isWhiteout(name string) bool {
	return strings.HasPrefix(path.Base(name), whiteoutPrefix)
}

// scan is the first pass.
func (o *overlay) scan(ctx context.Context) error {
	return o.walk(ctx, func(layer, seq int, name string, h *tar.Header, _ []byte, _ io.Reader) error {
		base := path.Base(name)
		dir := path.Dir(name)
		switch {
		case base == opaqueMarker:
			o.opq[dir] = layer
			return nil
		case strings.HasPrefix(base, whiteoutPrefix):
			o.wh[path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))] = layer
			return nil
		}
		o.last[name] = seq
		o.layer[name] = layer
		o.isDir[name] = h.Typeflag == tar.TypeDir
		if h.Typeflag == tar.TypeDir {
			o.dirHdr[name] = cloneHeader(h)
		} else {
			delete(o.dirHdr, name)
			o.nd[name] = layer
		}
		return nil
	})
}

// override makes a path written later (by a files entry) win over every
// layer: a non-directory hides the layers' entry and everything below it; a
// directory hides a layer's non-directory there (a layer's directory stays,
// with the metadata the tree writer is told to use).
func (o *overlay) override(name string, dir bool) {
	top := len(o.layers)
	if !dir {
		o.last[name] = overridden
		o.nd[name] = top
		return
	}
	if _, ok := o.last[name]; ok && !o.isDir[name] {
		o.last[name] = overridden
	}
}

// hidden reports whether an entry at name in layer is deleted by a higher layer.
func (o *overlay) hidden(name string, layer int) bool {
	if l, ok := o.wh[name]; ok && l > layer {
		return true
	}
	for a := path.Dir(name); a != "."; a = path.Dir(a) {
		if l, ok := o.wh[a]; ok && l > layer {
			return true
		}
		if l, ok := o.opq[a]; ok && l > layer {
			return true
		}
		if l, ok := o.nd[a]; ok && l > layer {
			return true
		}
	}
	return false
}

// dirMeta returns the header of the merged directory at name (relative to
// the overlay), or nil when no visible layer holds a directory there.
func (o *overlay) dirMeta(name string) *tar.Header {
	h, ok := o.dirHdr[name]
	if !ok || o.last[name] == overridden || o.hidden(name, o.layer[name]) {
		return nil
	}
	return h
}

// join puts a name below the overlay's prefix.
func (o *overlay) join(name string) string {
	if o.prefix == "" {
		return name
	}
	return o.prefix + "/" + name
}

// write is the second pass: it writes the merged tree to t.
func (o *overlay) write(ctx context.Context, t *treeWriter) error {
	prev := t.dirMeta
	defer func() { t.dirMeta = prev }()
	t.dirMeta = func(name string) *tar.Header {
		if prev != nil {
			if h := prev(name); h != nil {
				return h
			}
		}
		rel, ok := o.rel(name)
		if !ok {
			return nil
		}
		return o.dirMeta(rel)
	}
	// A hard link whose target a higher layer replaces comes before the
	// target's winning entry: it is written at the end, to the final target.
	var deferred []*tar.Header
	err := o.walk(ctx, func(layer, seq int, name string, h *tar.Header, data []byte, r io.Reader) error {
		if isWhiteout(name) || o.last[name] != seq || o.hidden(name, layer) {
			return nil
		}
		h = cloneHeader(h)
		h.Name = o.join(name)
		if h.Typeflag == tar.TypeLink {
			h.Linkname = o.join(cleanName(h.Linkname))
			if _, ok := t.has(h.Linkname); !ok {
				deferred = append(deferred, h)
				return nil
			}
		}
		if data != nil {
			h.Size = int64(len(data))
			r = bytes.NewReader(data)
		}
		ok, err := t.writeHeader(h)
		if err != nil || !ok || h.Typeflag != tar.TypeReg {
			return err
		}
		return t.copyData(r)
	})
	if err != nil {
		return err
	}
	for _, h := range deferred {
		if f, ok := t.has(h.Linkname); !ok || f != tar.TypeReg {
			return fmt.Errorf("hard link /%s: its target /%s is not a regular file of the merged image", h.Name, h.Linkname)
		}
		if _, err := t.writeHeader(h); err != nil {
			return err
		}
	}
	return nil
}

// rel maps a tree name back to a name inside the overlay.
func (o *overlay) rel(name string) (string, bool) {
	if o.prefix == "" {
		return name, true
	}
	if rest, ok := strings.CutPrefix(name, o.prefix+"/"); ok {
		return rest, true
	}
	return "", false
}
