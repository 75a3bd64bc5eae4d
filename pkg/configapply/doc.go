// Package configapply applies a cloud-config (pkg/cloudconfig) to the
// running machine. Every side effect goes through a System: files under
// System.Root, the host name, programs (modprobe, mount, swapon, commands
// and scripts), owners, and netlink; tests give a temporary Root and fakes.
//
// # When keys apply
//
// At Boot every key the config sets is applied: /etc and /run are made
// afresh at each boot, so accounts, /etc/hosts and the like are written
// again, each step idempotent (a line replaced, not added twice; an
// append write_files entry not appended when the file already holds its
// content). bootcmd runs at each boot. runcmd and the `#!` scripts of the
// user-data run only at FirstBoot, the first boot of an instance (rosd
// tells it by the instance-id), as cloud-init's per-instance modules.
//
// At Live (`ros config set`, `merge`) only the keys cloudconfig.Diff
// reports changed are applied, and nothing runs: a changed bootcmd is in
// Report.NeedsReboot, a changed runcmd or script is a warning. What cannot
// be undone live (a sysctl, module, mount, user, address or host name
// removed) is in NeedsReboot.
//
// Errors never stop the run: each is an *Error naming its key in
// Report.Errors, and the other keys are applied. ros.services, ros.engine,
// ros.upgrade, ros.cloud_init and ros.console are the caller's.
//
// # What each key does
//
//	ros.modules           modprobe NAME [PARAMS], through System.Run
//	ros.sysctl            written to /proc/sys/…
//	bootcmd, runcmd       a string runs with /bin/sh -c, a list as argv; environment:
//	                      PATH, HOME and Report.Environment; output to System.Output
//	scripts               written to ScriptDir (0700) and run
//	hostname, fqdn        sethostname, /etc/hostname, the 127.0.1.1 line of /etc/hosts
//	                      (not with manage_etc_hosts: false)
//	ros.network           bonds, bridges, VLANs made; MTU, addresses, default routes set
//	                      by netlink; static links listed in NoDHCPFile
//	ros.network.dns,      ResolvConf and StaticResolvConf (resolv_conf only with
//	resolv_conf           manage_resolv_conf: true, as in cloud-init)
//	ros.environment       /etc/environment and Report.Environment, with the
//	                      ros.network.proxy variables
//	timezone              /etc/localtime -> ZoneinfoDir/ZONE, /etc/timezone
//	write_files           encoding, permissions, owner (user[:group] from /etc/passwd
//	                      and /etc/group), append; defer: after users
//	mounts                mount points made, mount(8) or swapon through System.Run
//	users                 /etc/passwd, /etc/group, /etc/shadow entries; homes under
//	                      /home; "default" is the user ros; sudo is ignored with a
//	                      warning (ros has no sudo)
//	ssh_authorized_keys   ~/.ssh/authorized_keys (0700/0600, owned by the user) between
//	                      marks, keys added by hand kept; the top-level keys are ros's
//	ros.ssh, ssh_pwauth   host keys in SSHKeyDir, Port, PasswordAuthentication and extra
//	                      HostKey lines in SSHDropIn; sshd restarted
//	ntp                   OpenNTPD `servers` lines in NTPConf; ntpd restarted
//
// Passwords: a hash (hashed_passwd, passwd) or plain_text_passwd, hashed
// here with SHA-512 crypt, allows password login; lock_passwd defaults to
// true only when no password is given (a password given is meant to be
// used; cloud-init would lock it). A locked or absent password is "*",
// not "!": sshd runs without PAM, and OpenSSH refuses every login,
// keys too, to an account whose hash starts with "!".
//
// Files other services read are rewritten in place, not replaced, since
// services bind single files of /etc and /run (passwd, resolv.conf) and a
// bind keeps the old inode.
package configapply
