#!/bin/sh
# Run agetty on each console named on the kernel command line
# (console=ttyS0,115200n8 console=tty0 ...), like LinuxKit's getty, and
# restart it when the session ends. tty0 means the active VT: use tty1.
# With ros.autologin on the command line, root is logged in without a
# password (for debugging; never use it on a reachable machine).
bb=/bin/busybox
# PID 1 of the container: stop at once on SIGTERM (the gettys go with it).
trap 'exit 0' TERM INT
autologin=""
consoles=""
for arg in $($bb cat /proc/cmdline); do
	case "$arg" in
	ros.autologin) autologin="--autologin root" ;;
	console=*) consoles="$consoles ${arg#console=}" ;;
	esac
done
[ -n "$consoles" ] || consoles="tty1"

run() {
	dev=$1 speed=$2 term=$3
	while :; do
		# shellcheck disable=SC2086
		/sbin/agetty $autologin --noclear -L "$dev" $speed "$term"
		$bb sleep 1
	done
}

for c in $consoles; do
	dev=${c%%,*}
	opts=${c#"$dev"}
	opts=${opts#,}
	speed=$(echo "$opts" | $bb sed 's/[^0-9].*//')
	case "$dev" in
	tty0) dev=tty1 ;;
	esac
	case "$dev" in
	tty[0-9]*) run "$dev" "" linux & ;;
	*) run "$dev" "${speed:-115200}" vt100 & ;;
	esac
done
wait
