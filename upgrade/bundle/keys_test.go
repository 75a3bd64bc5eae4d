package bundle

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	priv, pub := testKey(t)
	if priv.ID() != pub.ID() || !priv.Public().Equal(pub) {
		t.Fatalf("GenerateKey: private id %s, public id %s: not a pair", priv.ID(), pub.ID())
	}
	if len(pub.ID()) != 16 {
		t.Errorf("ID() = %q, want 16 hex digits", pub.ID())
	}
	secPath, pubPath := filepath.Join(dir, "ros.key"), filepath.Join(dir, "ros.pub")
	if err := WritePrivateKeyFile(secPath, priv); err != nil {
		t.Fatal(err)
	}
	if err := WritePublicKeyFile(pubPath, pub); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(secPath); st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode = %v, want 0600", st.Mode().Perm())
	}
	if err := WritePrivateKeyFile(secPath, priv); !errors.Is(err, fs.ErrExist) {
		t.Errorf("WritePrivateKeyFile(existing) = %v, want fs.ErrExist", err)
	}
	priv2, err := ReadPrivateKeyFile(secPath, "")
	if err != nil {
		t.Fatal(err)
	}
	pub2, err := ReadPublicKeyFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if !pub2.Equal(pub) || priv2.ID() != priv.ID() || pub2.Source != pubPath {
		t.Errorf("keys read back differ: %s/%s vs %s", priv2.ID(), pub2.ID(), pub.ID())
	}
	// The bare base64 line (what a cloud-config may hold) parses too.
	bare, err := ParsePublicKey([]byte(pub.String() + "\n"))
	if err != nil || !bare.Equal(pub) {
		t.Errorf("ParsePublicKey(bare line) = %v, %v; want the key", bare.ID(), err)
	}
	// A bundle signed with the re-read key verifies with the re-read public key.
	b, err := openBytes(makeBundle(t, testManifest("v2"), 100, priv2))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Verify(context.Background(), Policy{Keys: []PublicKey{pub2}}); err != nil {
		t.Errorf("Verify with re-read keys: %v", err)
	}
}

func TestLoadPublicKeys(t *testing.T) {
	etc, varDir := t.TempDir(), t.TempDir()
	_, a := testKey(t)
	_, b := testKey(t)
	for _, k := range []struct {
		dir  string
		name string
		key  PublicKey
	}{{etc, "a.pub", a}, {varDir, "b.pub", b}, {varDir, "dup.pub", a}} {
		if err := WritePublicKeyFile(filepath.Join(k.dir, k.name), k.key); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, etc, "README", []byte("not a key, not *.pub"))
	keys, err := LoadPublicKeys(filepath.Join(etc, "missing"), etc, varDir)
	if err != nil {
		t.Fatalf("LoadPublicKeys: %v", err)
	}
	if len(keys) != 2 || !keys[0].Equal(a) || !keys[1].Equal(b) {
		t.Errorf("LoadPublicKeys = %d keys, want a then b (duplicate dropped)", len(keys))
	}
	bad := writeFile(t, varDir, "zz-bad.pub", []byte("untrusted comment: x\nnot base64!!\n"))
	if _, err := LoadPublicKeys(etc, varDir); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("LoadPublicKeys(with a bad key) = %v, want an error naming %s", err, bad)
	}
	if keys, err := LoadPublicKeys(); err != nil || len(keys) != 0 {
		t.Errorf("LoadPublicKeys() = %v, %v; want none", keys, err)
	}
}

// TestMinisignTool checks interoperability with the minisign tool both ways.
func TestMinisignTool(t *testing.T) {
	if _, err := exec.LookPath("minisign"); err != nil {
		t.Skip("needs minisign (apt-get install minisign)")
	}
	dir := t.TempDir()
	priv, pub := testKey(t)
	secPath, pubPath := filepath.Join(dir, "ros.key"), filepath.Join(dir, "ros.pub")
	if err := WritePrivateKeyFile(secPath, priv); err != nil {
		t.Fatal(err)
	}
	if err := WritePublicKeyFile(pubPath, pub); err != nil {
		t.Fatal(err)
	}
	b, err := openBytes(makeBundle(t, testManifest("v2"), 100, priv))
	if err != nil {
		t.Fatal(err)
	}
	man := writeFile(t, dir, ManifestName, b.ManifestBytes())
	writeFile(t, dir, SignatureName, b.Signature())

	// minisign verifies our signature with our public key file.
	if out, err := exec.Command("minisign", "-V", "-p", pubPath, "-m", man).CombinedOutput(); err != nil {
		t.Errorf("minisign -V of our signature: %v\n%s", err, out)
	}
	// minisign signs with our (unencrypted) secret key file: its checksum is right.
	other := writeFile(t, dir, "other.json", []byte(`{"x":1}`))
	if out, err := exec.Command("minisign", "-S", "-s", secPath, "-m", other).CombinedOutput(); err != nil {
		t.Fatalf("minisign -S with our key: %v\n%s", err, out)
	}
	// A key pair made by minisign works here, and our encoding of its secret
	// key is byte for byte minisign's (checksum included).
	mSec, mPub := filepath.Join(dir, "m.key"), filepath.Join(dir, "m.pub")
	if out, err := exec.Command("minisign", "-G", "-W", "-s", mSec, "-p", mPub).CombinedOutput(); err != nil {
		t.Fatalf("minisign -G -W: %v\n%s", err, out)
	}
	mk, err := ReadPrivateKeyFile(mSec, "")
	if err != nil {
		t.Fatalf("ReadPrivateKeyFile(minisign key): %v", err)
	}
	mp, err := ReadPublicKeyFile(mPub)
	if err != nil {
		t.Fatalf("ReadPublicKeyFile(minisign key): %v", err)
	}
	theirs, _ := os.ReadFile(mSec)
	ours, _ := mk.MarshalText()
	if got, want := lastLine(ours), lastLine(theirs); got != want {
		t.Errorf("MarshalText(minisign's key) =\n%s\nwant\n%s", got, want)
	}
	mb, err := openBytes(makeBundle(t, testManifest("v2"), 100, mk))
	if err != nil {
		t.Fatal(err)
	}
	if err := mb.Verify(context.Background(), Policy{Keys: []PublicKey{mp}}); err != nil {
		t.Errorf("Verify(bundle signed by a minisign key): %v", err)
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// TestMinisignEncryptedKey reads a password-protected minisign key (scrypt
// makes this take seconds).
func TestMinisignEncryptedKey(t *testing.T) {
	if testing.Short() {
		t.Skip("slow (scrypt): skipped with -short")
	}
	if _, err := exec.LookPath("minisign"); err != nil {
		t.Skip("needs minisign (apt-get install minisign)")
	}
	dir := t.TempDir()
	mSec, mPub := filepath.Join(dir, "m.key"), filepath.Join(dir, "m.pub")
	cmd := exec.Command("minisign", "-G", "-s", mSec, "-p", mPub)
	cmd.Stdin = strings.NewReader("secret\nsecret\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("minisign -G: %v\n%s", err, out)
	}
	if _, err := ReadPrivateKeyFile(mSec, ""); err == nil {
		t.Errorf("ReadPrivateKeyFile(encrypted, no password) = nil error, want one")
	}
	mk, err := ReadPrivateKeyFile(mSec, "secret")
	if err != nil {
		t.Fatalf("ReadPrivateKeyFile(encrypted, password): %v", err)
	}
	mp, err := ReadPublicKeyFile(mPub)
	if err != nil {
		t.Fatal(err)
	}
	if !mk.Public().Equal(mp) {
		t.Errorf("decrypted key %s does not match public key %s", mk.ID(), mp.ID())
	}
}
