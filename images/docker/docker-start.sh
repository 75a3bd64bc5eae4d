#!/bin/sh
# Start Docker's own containerd, wait for its socket, then run dockerd on
# it (extra arguments go to dockerd). If containerd exits, so does this
# script, and the service is restarted as a whole.
bb=/bin/busybox
# PID 1 of the container: on SIGTERM stop dockerd (it stops its
# containers), then containerd, instead of waiting for SIGKILL.
stop() {
	[ -n "$dockerd" ] && $bb kill "$dockerd" 2>/dev/null && wait "$dockerd"
	[ -n "$ctd" ] && $bb kill "$ctd" 2>/dev/null && wait "$ctd"
	exit 0
}
trap stop TERM INT
dockerd=""
ctd=""
sock=/run/docker/containerd/containerd.sock
$bb mkdir -p /run/docker/containerd /var/lib/docker
$bb rm -f "$sock"
/usr/bin/containerd --config /etc/docker/containerd.toml &
ctd=$!
i=0
while [ ! -S "$sock" ]; do
	if ! $bb kill -0 "$ctd" 2>/dev/null; then
		echo "docker-start: containerd exited" >&2
		exit 1
	fi
	i=$((i + 1))
	if [ "$i" -gt 600 ]; then
		echo "docker-start: no containerd socket after 60s" >&2
		exit 1
	fi
	$bb sleep 0.1
done
# The docker CLI for SSH sessions (the sshd service has it on its PATH).
if [ -d /run/ros/bin ]; then
	$bb cp /usr/bin/docker /run/ros/bin/docker.new && $bb mv /run/ros/bin/docker.new /run/ros/bin/docker
fi
# ros.engine from cloud-config: rosd writes dockerd's extra arguments (one
# per line) and daemon.json here.
engine=/run/ros/engine/docker
set -- "$@"
if [ -f "$engine/daemon.json" ]; then
	set -- "$@" --config-file "$engine/daemon.json"
fi
if [ -s "$engine/args" ]; then
	while IFS= read -r arg; do
		[ -n "$arg" ] && set -- "$@" "$arg"
	done < "$engine/args"
fi
/usr/sbin/dockerd --containerd="$sock" "$@" &
dockerd=$!
# Exit (and let the service restart) when either one stops.
while $bb kill -0 "$ctd" 2>/dev/null && $bb kill -0 "$dockerd" 2>/dev/null; do
	$bb sleep 1
done
$bb kill "$dockerd" "$ctd" 2>/dev/null
wait
exit 1
