#!/bin/sh
# Start a DHCP client on every physical Ethernet interface and wait for them.
# This shell is PID 1 of the container: without a trap it would ignore
# SIGTERM and every stop would wait out the grace period. Exiting ends the
# container, and the kernel stops the clients with it.
trap 'exit 0' TERM INT
started=0
for path in /sys/class/net/*; do
	ifname=${path##*/}
	[ -e "$path/device" ] || continue # lo, bridges, veths: not ours
	ip link set dev "$ifname" up
	echo "dhcp: starting udhcpc on $ifname"
	udhcpc -f -i "$ifname" -s /usr/lib/ros/udhcpc.script -x "hostname:$(cat /proc/sys/kernel/hostname)" &
	started=$((started + 1))
done
if [ "$started" = 0 ]; then
	echo "dhcp: no Ethernet interface found"
	while :; do
		sleep 3600 &
		wait $!
	done
fi
wait
