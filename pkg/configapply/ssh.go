package configapply

import (
	"context"
	"fmt"
	"path"
	"strings"

	"golang.org/x/crypto/ssh"
)

// SSHDropIn is the sshd configuration written from ros.ssh and
// ssh_pwauth. The sshd service sees the machine's /etc at /hostroot/etc;
// its sshd_config must include /hostroot/etc/ssh/sshd_config.d/*.conf
// before its own settings (sshd keeps the first value of a keyword).
const SSHDropIn = "/etc/ssh/sshd_config.d/ros.conf"

// SSHKeyDir holds the host keys (on the state partition): the sshd service
// makes ed25519 and ecdsa keys there on first start unless they exist.
const SSHKeyDir = "/var/lib/ros/ssh"

// applySSH writes ros.ssh.host_keys to SSHKeyDir and the port, password
// setting and extra host keys to SSHDropIn, and asks for sshd to be
// restarted when anything changed.
func applySSH(ctx context.Context, a *applier) {
	cfg := a.next.ROS.SSH
	changed := false
	var lines []string
	if cfg.Port != 0 {
		lines = append(lines, fmt.Sprintf("Port %d", cfg.Port))
	}
	if p := a.next.SSHPwauth; p != nil {
		lines = append(lines, "PasswordAuthentication "+map[bool]string{true: "yes", false: "no"}[*p])
	}
	for i, k := range cfg.HostKeys {
		key := fmt.Sprintf("ros.ssh.host_keys[%d]", i)
		file := path.Join(SSHKeyDir, "ssh_host_"+k.Type+"_key")
		c, err := a.writeHostKey(file, k.Private, k.Public)
		if err != nil {
			a.fail(key, err)
			continue
		}
		changed = changed || c
		if k.Type != "ed25519" && k.Type != "ecdsa" { // the image's sshd_config names those two
			lines = append(lines, "HostKey "+file)
		}
	}
	name := a.sys.path(SSHDropIn)
	if len(lines) == 0 {
		removed, err := removeFile(name)
		if err != nil {
			a.fail("ros.ssh", err)
		}
		changed = changed || removed
	} else {
		text := "# Written by ros from cloud-config (ros.ssh, ssh_pwauth).\n" + strings.Join(lines, "\n") + "\n"
		c, err := writeFile(name, []byte(text), 0o644)
		if err != nil {
			a.fail("ros.ssh", err)
		}
		changed = changed || c
	}
	if changed {
		a.restart("sshd")
	}
}

// writeHostKey writes a private host key (0600) and its public half
// (0644), derived from the private key when not given.
func (a *applier) writeHostKey(file, private, public string) (bool, error) {
	if public == "" {
		signer, err := ssh.ParsePrivateKey([]byte(private))
		if err != nil {
			return false, fmt.Errorf("private: %w", err) // never the key text
		}
		public = string(ssh.MarshalAuthorizedKey(signer.PublicKey()))
	}
	if err := a.mkdirOwned(a.sys.path(SSHKeyDir), 0o700, 0, 0); err != nil {
		return false, err
	}
	c1, err := writeFile(a.sys.path(file), []byte(strings.TrimRight(private, "\n")+"\n"), 0o600)
	if err != nil {
		return false, err
	}
	c2, err := writeFile(a.sys.path(file+".pub"), []byte(strings.TrimRight(public, "\n")+"\n"), 0o644)
	if err != nil {
		return false, err
	}
	return c1 || c2, nil
}
