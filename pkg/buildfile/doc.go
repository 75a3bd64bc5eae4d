// Package buildfile reads LinuxKit-format build files (the YAML that
// describes a ros machine), checks them strictly, merges several in order,
// and renders the result back to YAML (the dry run) and a JSON schema.
//
// The types mirror LinuxKit's moby.Moby, moby.Image and friends key for key,
// so a LinuxKit user's YAML reads unchanged. Pointer fields keep LinuxKit's
// distinction between a key that is absent and a key set to an empty value.
//
// Reading is strict, as LinuxKit's schema is: unknown keys, repeated keys,
// null values and values of the wrong kind are errors (a string field does
// not take an unquoted number, so `mode: 0600` must be written "0600").
// Every error is an *Error on one line, "file:line: path: message".
// LinuxKit's later checks are made at parse time too, so they carry a line:
// missing name or image, bad image references, duplicate service and volume
// names, files with no or several content sources, bad metadata kinds and
// modes, unknown capabilities, and malformed binds, tmpfs, rlimits, mounts
// and device modes.
//
// Decisions where LinuxKit is silent or loose:
//   - Keys of runtime-spec types (mounts, resources, uidMappings …) match
//     without regard to case, so both the spec's "hostID" and LinuxKit's
//     lower-cased "hostid" work; the schema lists the spec's spelling.
//   - A relative `source:` is taken from the folder of the build file that
//     holds it (LinuxKit takes it from the working directory); `~/` is the
//     home directory; an `optional: true` source that cannot be read skips
//     the entry.
//   - "@pkg:DIR" references (LinuxKit templates) are kept as written and
//     replaced by ResolveTemplates with a caller's resolver.
//   - Volume names must be unique across merged files, like service names.
//   - Merge key (<<) and anchors work; alias expansion is bounded.
//
// The JSON schema (Schema, tools/schemagen, yml/ros.schema.json) is made
// from the same types and keys the decoder uses, so it cannot drift.
package buildfile
