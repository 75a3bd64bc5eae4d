package sshcheck

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	p1, a1, err := LoadOrCreateKey(dir, "c")
	if err != nil {
		t.Fatal(err)
	}
	p2, a2, err := LoadOrCreateKey(dir, "c")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p1, p2) || a1 != a2 {
		t.Errorf("LoadOrCreateKey twice gave different keys: %q vs %q", a1, a2)
	}
	if !strings.HasPrefix(a1, "ssh-ed25519 ") {
		t.Errorf("authorized key = %q, want ssh-ed25519 ...", a1)
	}
}

func TestAuthorizedKeysLayer(t *testing.T) {
	var layer struct {
		Files []struct {
			Path     string
			Contents string
			UID      int
		}
	}
	if err := yaml.Unmarshal([]byte(AuthorizedKeysLayer("ssh-ed25519 AAAA x")), &layer); err != nil {
		t.Fatal(err)
	}
	if len(layer.Files) != 2 || layer.Files[1].Contents != "ssh-ed25519 AAAA x\n" || layer.Files[1].UID != 1000 {
		t.Errorf("AuthorizedKeysLayer = %+v, want the key for uid 1000", layer)
	}
}

func TestKeyLayer(t *testing.T) {
	dir := t.TempDir()
	key, layer, err := KeyLayer(dir, "k.yml", "test")
	if err != nil {
		t.Fatal(err)
	}
	_, pub, _ := LoadOrCreateKey(dir, "test")
	b, err := os.ReadFile(layer)
	if err != nil || string(b) != AuthorizedKeysLayer(pub) || len(key) == 0 {
		t.Errorf("KeyLayer = %d-byte key, layer %q (%v), want the stored key's layer", len(key), b, err)
	}
	again, _, _ := KeyLayer(dir, "k.yml", "test")
	if string(again) != string(key) {
		t.Error("KeyLayer made a new key on the second call")
	}
}
