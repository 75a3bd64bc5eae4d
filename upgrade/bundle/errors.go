package bundle

import "errors"

// Sentinel errors. Every error returned by Open and Verify wraps one of these
// (test with errors.Is) and says in words what is wrong.
var (
	// ErrFormat: the file is not a ros bundle (not a tar, wrong entries or
	// order, unreadable manifest, unsupported format number).
	ErrFormat = errors.New("not a valid ros bundle")
	// ErrTruncated: the file ends before a part of the bundle is complete.
	ErrTruncated = errors.New("bundle truncated")
	// ErrUnsigned: the bundle carries no signature and the policy is not insecure.
	ErrUnsigned = errors.New("bundle not signed")
	// ErrUnknownKey: the signature was made by a key that is not trusted.
	ErrUnknownKey = errors.New("bundle signed by an unknown key")
	// ErrBadSignature: the signature does not match the manifest.
	ErrBadSignature = errors.New("bad bundle signature")
	// ErrSize: the payload size differs from the manifest's.
	ErrSize = errors.New("payload size mismatch")
	// ErrHash: the payload sha256 differs from the manifest's.
	ErrHash = errors.New("payload hash mismatch")
	// ErrArch: the bundle is for another architecture.
	ErrArch = errors.New("wrong architecture")
	// ErrCompatible: the bundle's compatible string differs from the machine's.
	ErrCompatible = errors.New("incompatible bundle")
	// ErrDowngrade: the bundle is older than (or the same as) the running version.
	ErrDowngrade = errors.New("downgrade refused")
	// ErrMinVersion: the running version is older than the bundle's minimum.
	ErrMinVersion = errors.New("running version too old for this bundle")
	// ErrKnownBad: the bundle's version failed a trial boot on this machine before.
	ErrKnownBad = errors.New("version known bad")
)
