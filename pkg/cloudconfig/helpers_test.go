package cloudconfig

import (
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ros-os/ros/pkg/buildfile"
	"github.com/ros-os/ros/pkg/cmdline"
)

// imageCmp compares build-file entries by their exported fields (their
// positions differ between documents).
var imageCmp = cmpopts.IgnoreUnexported(buildfile.Image{})

func cmdlineParams(s string) []cmdline.Param { return cmdline.Parse(s).Params() }
