//go:build rosstatic

package state

// A static build (pkg/recipe `static: true` sets the rosstatic tag and links
// with -static) needs dqlite's dependencies named explicitly, in dependency
// order, as archives: go-dqlite's own directive only names sqlite3, raft and
// dqlite for a dynamic link. libuv's static archive is libuv_a.a
// (libuv1-dev); raft uses lz4 (liblz4-dev).

// #cgo LDFLAGS: -ldqlite -lraft -lsqlite3 -luv_a -llz4 -lm -lpthread -ldl -lrt
import "C"
