package sshcheck

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// KeyPair is an ed25519 key pair for tests.
type KeyPair struct {
	// PrivatePEM is the private key in OpenSSH format
	// ("-----BEGIN OPENSSH PRIVATE KEY-----"), as ssh-keygen writes it.
	PrivatePEM []byte
	// AuthorizedKey is the public key as an authorized_keys line, without
	// the trailing newline: "ssh-ed25519 AAAA... comment".
	AuthorizedKey string
	Signer        ssh.Signer
}

// GenerateKey makes a new ed25519 key pair; comment ends the authorized_keys line.
func GenerateKey(comment string) (*KeyPair, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	if comment != "" {
		line += " " + comment
	}
	return &KeyPair{PrivatePEM: pem.EncodeToMemory(block), AuthorizedKey: line, Signer: signer}, nil
}
