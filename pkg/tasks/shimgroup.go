package tasks

import specs "github.com/opencontainers/runtime-spec/specs-go"

// ShimGroupAnnotation makes containerd's runc v2 shim serve every container
// that carries the same value from one process, as it does for the
// containers of a Kubernetes pod.
const ShimGroupAnnotation = "io.containerd.runc.v2.group"

// ShimGroup is the group every service joins unless its spec names one:
// a shim per service cost 1.2 to 1.8 MiB of anonymous memory each
// (measured with four services under TCG); one shim serving all four
// used 1.8 to 2.6 MiB.
const ShimGroup = "ros-services"

// withShimGroup sets spec's shim group to group unless it has one: a
// service that wants a shim of its own gives it a group of its own.
func withShimGroup(spec *specs.Spec, group string) {
	if _, ok := spec.Annotations[ShimGroupAnnotation]; ok {
		return
	}
	if spec.Annotations == nil {
		spec.Annotations = map[string]string{}
	}
	spec.Annotations[ShimGroupAnnotation] = group
}
