package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ros-os/ros/upgrade/bundle"
)

// newKeygenCmd returns `ros keygen`: a signing key pair for bundles.
func newKeygenCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "keygen NAME",
		Short: "Make a key pair to sign upgrade bundles (minisign format)",
		Long: `keygen writes NAME.key (the secret key, mode 0600, unencrypted) and NAME.pub
(the public key) into --dir. Sign bundles with 'ros build --format bundle
--sign-key NAME.key'; machines trust the keys in /etc/ros/keys/ (put NAME.pub
there through the build's files: section) and in ros.upgrade.public_keys.
Existing files are never overwritten. The files work with the minisign tool.`,
		Example: `  ros keygen --dir keys release
  ros keygen release`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			priv, pub, err := bundle.GenerateKey()
			if err != nil {
				return err
			}
			keyPath := filepath.Join(dir, args[0]+".key")
			pubPath := filepath.Join(dir, args[0]+".pub")
			if err := bundle.WritePrivateKeyFile(keyPath, priv); err != nil {
				return err
			}
			if err := bundle.WritePublicKeyFile(pubPath, pub); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key id %s\nsecret key %s\npublic key %s\n", pub.ID(), keyPath, pubPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "folder to write the key files to")
	return cmd
}
