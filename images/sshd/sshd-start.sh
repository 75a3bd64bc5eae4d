#!/bin/sh
# Start sshd, making host keys on first start. Keys live in
# /var/lib/ros/ssh (bound from the state partition), so they survive
# reboots and upgrades.
set -e
bb=/bin/busybox
keys=/var/lib/ros/ssh
$bb mkdir -p "$keys" /run/sshd
$bb chmod 0700 "$keys"
for t in ed25519 ecdsa; do
	k="$keys/ssh_host_${t}_key"
	if [ ! -s "$k" ]; then
		$bb rm -f "$k" "$k.pub"
		/usr/bin/ssh-keygen -q -t "$t" -N "" -f "$k"
	fi
done
exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config "$@"
