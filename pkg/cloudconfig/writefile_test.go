package cloudconfig

import (
	"encoding/base64"
	"io/fs"
	"testing"
)

func TestWriteFileDecode(t *testing.T) {
	zipped := gz(t, "hello\n")
	b64 := base64.StdEncoding.EncodeToString([]byte("hello\n"))
	gzb64 := base64.StdEncoding.EncodeToString(zipped)
	tests := []struct {
		encoding, content string
		want              string
		wantErr           bool
	}{
		{"", "hello\n", "hello\n", false},
		{"text", "hello\n", "hello\n", false},
		{"b64", b64, "hello\n", false},
		{"base64", b64[:4] + "\n" + b64[4:], "hello\n", false}, // line breaks in base64 are fine
		{"BASE64", b64, "hello\n", false},
		{"gzip", string(zipped), "hello\n", false},
		{"gz", string(zipped), "hello\n", false},
		{"gz+b64", gzb64, "hello\n", false},
		{"gzip+base64", gzb64, "hello\n", false},
		{"gz+base64", gzb64, "hello\n", false},
		{"gzip+b64", gzb64, "hello\n", false},
		{"b64", "not base64!", "", true},
		{"gzip", "plain", "", true},
		{"zip", "x", "", true},
	}
	for _, tt := range tests {
		got, err := WriteFile{Path: "/x", Encoding: tt.encoding, Content: tt.content}.Decode()
		if (err != nil) != tt.wantErr || string(got) != tt.want {
			t.Errorf("WriteFile{Encoding: %q}.Decode() = %q, %v; want %q, error %v", tt.encoding, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestWriteFileMode(t *testing.T) {
	tests := []struct {
		perm    Permissions
		want    fs.FileMode
		wantErr bool
	}{
		{"", 0o644, false},
		{"0600", 0o600, false},
		{"600", 0o600, false},
		{"0o755", 0o755, false},
		{"4755", 0o755 | fs.ModeSetuid, false},
		{"1777", 0o777 | fs.ModeSticky, false},
		{"0800", 0, true},
		{"rw-r--r--", 0, true},
		{"77777", 0, true},
	}
	for _, tt := range tests {
		got, err := WriteFile{Permissions: tt.perm}.Mode()
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("WriteFile{Permissions: %q}.Mode() = %v, %v; want %v, error %v", tt.perm, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestUnquotedPermissions(t *testing.T) {
	// YAML reads 0644 as the number 420; the permissions are taken as written.
	c := parseT(t, "write_files: [{path: /x, permissions: 0644}]")
	if m, err := c.WriteFiles[0].Mode(); err != nil || m != 0o644 {
		t.Errorf("Mode() of unquoted 0644 = %v, %v; want -rw-r--r--", m, err)
	}
}
