//go:build rosstatic

package state

// A static build (pkg/recipe `static: true` sets the rosstatic tag and links
// with -static) needs dqlite's dependencies named explicitly, in dependency
// order, as archives: go-dqlite's own directive only names sqlite3, raft and
// dqlite for a dynamic link. libuv's static archive is libuv_a.a
// (libuv1-dev); raft uses lz4 (liblz4-dev).
//
// raft keeps three open segments ready, each preallocated to 8 MiB by
// default: 24 MiB of RAM when /var is a tmpfs (the live ISO), for a
// database whose writes are a few KiB. dqlite 1.11 has no setting for it,
// so the static link wraps raft_uv_init (the linker's --wrap: dqlite's call
// lands in __wrap_raft_uv_init) to set raft's segment size after it.
// SegmentSize is that size; an entry batch larger than it still fits
// (raft grows the file).

/*
#cgo LDFLAGS: -Wl,--wrap=raft_uv_init
#cgo LDFLAGS: -ldqlite -lraft -lsqlite3 -luv_a -llz4 -lm -lpthread -ldl -lrt
#include <raft.h>
#include <raft/uv.h>

#define ROS_RAFT_SEGMENT_SIZE (1024 * 1024)

int __real_raft_uv_init(struct raft_io *io, struct uv_loop_s *loop,
			const char *dir, struct raft_uv_transport *transport);

int __wrap_raft_uv_init(struct raft_io *io, struct uv_loop_s *loop,
			const char *dir, struct raft_uv_transport *transport)
{
	int rv = __real_raft_uv_init(io, loop, dir, transport);
	if (rv == 0) {
		raft_uv_set_segment_size(io, ROS_RAFT_SEGMENT_SIZE);
	}
	return rv;
}
*/
import "C"

// SegmentSize is the size raft preallocates for each open segment in a
// static build.
const SegmentSize = C.ROS_RAFT_SEGMENT_SIZE
