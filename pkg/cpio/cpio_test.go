package cpio

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

var mtime = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)

// member is a header plus the data written after it.
type member struct {
	h    Header
	data string
}

func archive(t *testing.T, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, m := range members {
		if err := w.WriteHeader(&m.h); err != nil {
			t.Fatalf("WriteHeader(%+v) = %v", m.h, err)
		}
		if _, err := w.Write([]byte(m.data)); err != nil {
			t.Fatalf("Write(%s) = %v", m.h.Name, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	return buf.Bytes()
}

// gnuCpio runs GNU cpio, the oracle for the format, on archive.
func gnuCpio(t *testing.T, archive []byte, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("needs cpio (Debian package cpio) as the format oracle")
	}
	cmd := exec.Command("cpio", append([]string{"--quiet"}, args...)...)
	cmd.Stdin = bytes.NewReader(archive)
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio %v: %v: %s", args, err, out)
	}
	return string(out)
}

func TestGNUCpioReads(t *testing.T) {
	members := []member{
		{h: Header{Name: "dev", Mode: TypeDir | 0o755, ModTime: mtime}},
		{h: Header{Name: "/dev/console", Mode: TypeChar | 0o600, DevMajor: 5, DevMinor: 1, ModTime: mtime}},
		{h: Header{Name: "dev/sda", Mode: TypeBlock | 0o660, GID: 6, DevMajor: 8, DevMinor: 0, ModTime: mtime}},
		{h: Header{Name: "dev/fifo", Mode: TypeFifo | 0o644, ModTime: mtime}},
		{h: Header{Name: "init", Mode: TypeReg | 0o755, Size: 5, ModTime: mtime}, data: "hello"},
		{h: Header{Name: "etc/passwd", Mode: TypeReg | 0o644, UID: 1000, GID: 100, Size: 2, ModTime: mtime}, data: "x\n"},
		{h: Header{Name: "empty", Mode: TypeReg | 0o400, ModTime: mtime}},
		{h: Header{Name: "sbin/init", Mode: TypeSymlink | 0o777, Linkname: "../init", ModTime: mtime}},
	}
	a := archive(t, members...)
	if len(a)%4 != 0 {
		t.Errorf("archive is %d bytes, want a multiple of 4", len(a))
	}
	got := strings.Split(strings.TrimSpace(gnuCpio(t, a, "-itv", "--numeric-uid-gid")), "\n")
	want := []string{
		"drwxr-xr-x   2 0        0               0 Nov 14  2023 dev",
		"crw-------   1 0        0          5,   1 Nov 14  2023 dev/console",
		"brw-rw----   1 0        6          8,   0 Nov 14  2023 dev/sda",
		"prw-r--r--   1 0        0               0 Nov 14  2023 dev/fifo",
		"-rwxr-xr-x   1 0        0               5 Nov 14  2023 init",
		"-rw-r--r--   1 1000     100             2 Nov 14  2023 etc/passwd",
		"-r--------   1 0        0               0 Nov 14  2023 empty",
		"lrwxrwxrwx   1 0        0               7 Nov 14  2023 sbin/init -> ../init",
	}
	if len(got) != len(want) {
		t.Fatalf("cpio -itv lists %d members, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cpio -itv line %d = %q, want %q", i, got[i], want[i])
		}
	}
	for name, data := range map[string]string{"init": "hello", "etc/passwd": "x\n"} {
		if got := gnuCpio(t, a, "-i", "--to-stdout", name); got != data {
			t.Errorf("cpio -i --to-stdout %s = %q, want %q", name, got, data)
		}
	}
}

// TestBytes pins the exact encoding of a member and of the trailer.
func TestBytes(t *testing.T) {
	a := archive(t, member{h: Header{Name: "/a", Mode: TypeReg | 0o644, Size: 3, ModTime: time.Unix(0x10, 0)}, data: "xyz"})
	want := "070701" + "00000001" + "000081A4" + "00000000" + "00000000" + "00000001" + "00000010" + "00000003" +
		"00000000" + "00000000" + "00000000" + "00000000" + "00000002" + "00000000" + "a\x00" + "xyz\x00" +
		"070701" + "00000000" + "00000000" + "00000000" + "00000000" + "00000001" + "00000000" + "00000000" +
		"00000000" + "00000000" + "00000000" + "00000000" + "0000000B" + "00000000" + "TRAILER!!!\x00" + "\x00\x00\x00"
	if string(a) != want {
		t.Errorf("archive =\n%q\nwant\n%q", a, want)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		run  func(w *Writer) error
		want error // nil: any error
	}{
		{"write too long", func(w *Writer) error {
			_ = w.WriteHeader(&Header{Name: "f", Mode: TypeReg, Size: 2})
			_, err := w.Write([]byte("abc"))
			return err
		}, ErrWriteTooLong},
		{"data missing at next header", func(w *Writer) error {
			_ = w.WriteHeader(&Header{Name: "f", Mode: TypeReg, Size: 2})
			_, _ = w.Write([]byte("a"))
			return w.WriteHeader(&Header{Name: "g", Mode: TypeReg})
		}, nil},
		{"data missing at close", func(w *Writer) error {
			_ = w.WriteHeader(&Header{Name: "f", Mode: TypeReg, Size: 2})
			return w.Close()
		}, nil},
		{"over 4 GiB", func(w *Writer) error {
			return w.WriteHeader(&Header{Name: "f", Mode: TypeReg, Size: 1 << 32})
		}, ErrTooLarge},
		{"mtime before 1970", func(w *Writer) error {
			return w.WriteHeader(&Header{Name: "f", Mode: TypeReg, ModTime: time.Unix(-1, 0)})
		}, nil},
		{"mtime after 2106", func(w *Writer) error {
			return w.WriteHeader(&Header{Name: "f", Mode: TypeReg, ModTime: time.Unix(1<<32, 0)})
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(NewWriter(&bytes.Buffer{}))
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("%s = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
}

func TestStickyError(t *testing.T) {
	w := NewWriter(failWriter{})
	err := w.WriteHeader(&Header{Name: "f", Mode: TypeReg})
	if err == nil {
		t.Fatalf("WriteHeader to a failing writer = nil, want an error")
	}
	if err2 := w.Close(); err2 == nil {
		t.Errorf("Close() after a failed write = nil, want the first error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
