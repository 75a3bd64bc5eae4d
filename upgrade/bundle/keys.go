package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"aead.dev/minisign"
)

// KeyDirs returns the folders whose *.pub files a machine trusts: keys
// baked into the image, then keys added at run time (cloud-config).
func KeyDirs() []string { return []string{"/etc/ros/keys", "/var/lib/ros/keys"} }

// PrivateKey signs bundles. Files use the minisign secret key format.
type PrivateKey struct {
	k minisign.PrivateKey
}

// PublicKey verifies bundle signatures. Files use the minisign public key
// format (a comment line, then the base64 key).
type PublicKey struct {
	k minisign.PublicKey
	// Source is the file the key was read from, if any (for messages).
	Source string
}

// GenerateKey makes a new ed25519 key pair.
func GenerateKey() (*PrivateKey, PublicKey, error) {
	pub, priv, err := minisign.GenerateKey(nil)
	if err != nil {
		return nil, PublicKey{}, fmt.Errorf("generate key: %w", err)
	}
	return &PrivateKey{k: priv}, PublicKey{k: pub}, nil
}

// FormatKeyID formats a minisign key id as minisign does (16 hex digits).
func FormatKeyID(id uint64) string { return fmt.Sprintf("%016X", id) }

// ID is the key id, as minisign prints it.
func (k *PrivateKey) ID() string { return FormatKeyID(k.k.ID()) }

// Public returns the public half of k.
func (k *PrivateKey) Public() PublicKey {
	return PublicKey{k: k.k.Public().(minisign.PublicKey)}
}

// MarshalText encodes k as an unencrypted minisign secret key file, byte
// for byte what `minisign -G -W` writes (readable by `minisign -S` without
// a password prompt).
func (k *PrivateKey) MarshalText() ([]byte, error) {
	text, err := k.k.MarshalText()
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return append(text, '\n'), nil
}

// ParsePrivateKey decodes a minisign secret key file. An encrypted key
// (what `minisign -G` writes without -W) needs its password.
func ParsePrivateKey(data []byte, password string) (*PrivateKey, error) {
	if minisign.IsEncrypted(data) {
		if password == "" {
			return nil, fmt.Errorf("private key is encrypted: a password is needed")
		}
		k, err := minisign.DecryptKey(password, data)
		if err != nil {
			return nil, fmt.Errorf("decrypt private key: %w", err)
		}
		return &PrivateKey{k: k}, nil
	}
	var k minisign.PrivateKey
	if err := k.UnmarshalText(data); err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	return &PrivateKey{k: k}, nil
}

// ReadPrivateKeyFile reads a secret key file (password only if encrypted).
func ReadPrivateKeyFile(path, password string) (*PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	k, err := ParsePrivateKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// WritePrivateKeyFile writes k to path with mode 0600. It never overwrites
// an existing file (the error then wraps fs.ErrExist).
func WritePrivateKeyFile(path string, k *PrivateKey) error {
	text, err := k.MarshalText()
	if err != nil {
		return err
	}
	return writeNew(path, text, 0o600)
}

// ID is the key id, as minisign prints it.
func (k PublicKey) ID() string { return FormatKeyID(k.k.ID()) }

// String is the one-line base64 form of the key (what cloud-config may carry).
func (k PublicKey) String() string { return k.k.String() }

// Equal reports whether k and o are the same key.
func (k PublicKey) Equal(o PublicKey) bool { return k.k.Equal(o.k) }

// MarshalText encodes k as a minisign public key file.
func (k PublicKey) MarshalText() ([]byte, error) {
	text, err := k.k.MarshalText()
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return append(text, '\n'), nil
}

// ParsePublicKey decodes a minisign public key: the two-line file or the
// bare base64 line.
func ParsePublicKey(data []byte) (PublicKey, error) {
	data = bytes.TrimSpace(data)
	var k minisign.PublicKey
	if err := k.UnmarshalText(data); err != nil {
		return PublicKey{}, fmt.Errorf("parse public key: %w", err)
	}
	return PublicKey{k: k}, nil
}

// ReadPublicKeyFile reads one public key file.
func ReadPublicKeyFile(path string) (PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return PublicKey{}, fmt.Errorf("read public key: %w", err)
	}
	k, err := ParsePublicKey(data)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%s: %w", path, err)
	}
	k.Source = path
	return k, nil
}

// WritePublicKeyFile writes k to path (mode 0644), never overwriting.
func WritePublicKeyFile(path string, k PublicKey) error {
	text, err := k.MarshalText()
	if err != nil {
		return err
	}
	return writeNew(path, text, 0o644)
}

// LoadPublicKeys reads every *.pub file in dirs, in order, skipping dirs
// that do not exist and keys already seen. A bad key file is an error that
// names the file.
func LoadPublicKeys(dirs ...string) ([]PublicKey, error) {
	var keys []PublicKey
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("load public keys: %w", err)
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && filepath.Ext(e.Name()) == ".pub" {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
	next:
		for _, name := range names {
			k, err := ReadPublicKeyFile(filepath.Join(dir, name))
			if err != nil {
				return nil, fmt.Errorf("load public keys: %w", err)
			}
			for _, have := range keys {
				if have.Equal(k) {
					continue next
				}
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write key %s: %w", path, err)
	}
	return nil
}
