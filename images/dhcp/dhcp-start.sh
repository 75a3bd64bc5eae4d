#!/bin/sh
# Start a DHCP client on every physical Ethernet interface and wait for them.
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
	while :; do sleep 3600; done
fi
wait
