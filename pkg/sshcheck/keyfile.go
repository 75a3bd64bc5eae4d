package sshcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreateKey returns the key pair kept in dir (id_ed25519 and
// id_ed25519.pub), creating it on first use. Keeping the key makes images
// that bake in its public half reproducible from run to run.
func LoadOrCreateKey(dir, comment string) (private []byte, authorized string, err error) {
	priv, pub := filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "id_ed25519.pub")
	p, err1 := os.ReadFile(priv)
	a, err2 := os.ReadFile(pub)
	if err1 == nil && err2 == nil {
		return p, strings.TrimSpace(string(a)), nil
	}
	kp, err := GenerateKey(comment)
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("key dir: %w", err)
	}
	if err := os.WriteFile(priv, kp.PrivatePEM, 0o600); err != nil {
		return nil, "", fmt.Errorf("write key: %w", err)
	}
	if err := os.WriteFile(pub, []byte(kp.AuthorizedKey+"\n"), 0o644); err != nil {
		return nil, "", fmt.Errorf("write key: %w", err)
	}
	return kp.PrivatePEM, kp.AuthorizedKey, nil
}

// AuthorizedKeysLayer is a build-file layer (merged after the OS's YAML)
// that installs authorizedKey for the ros user (uid and gid 1000).
func AuthorizedKeysLayer(authorizedKey string) string {
	return fmt.Sprintf(`# SSH key for the ros user, merged over the OS description.
files:
  - path: home/ros/.ssh
    directory: true
    mode: "0700"
    uid: 1000
    gid: 1000
  - path: home/ros/.ssh/authorized_keys
    contents: %q
    mode: "0600"
    uid: 1000
    gid: 1000
`, authorizedKey+"\n")
}

// KeyLayer loads or creates the key pair in dir (LoadOrCreateKey) and
// writes dir/name, the AuthorizedKeysLayer for its public half. It returns
// the private key and the layer's path, to add to a build's files.
func KeyLayer(dir, name, comment string) (private []byte, layer string, err error) {
	private, pub, err := LoadOrCreateKey(dir, comment)
	if err != nil {
		return nil, "", err
	}
	layer = filepath.Join(dir, name)
	if err := os.WriteFile(layer, []byte(AuthorizedKeysLayer(pub)), 0o644); err != nil {
		return nil, "", fmt.Errorf("write key layer: %w", err)
	}
	return private, layer, nil
}
