// Package e2e boots real ros images in QEMU and drives them through the
// serial console and SSH. The tests build the images once per run (from
// yml/ros.yml, and for the Docker test yml/docker.yml too, plus a test
// layer that adds an SSH key) and skip under -short or where QEMU is
// missing. What they hand a machine (NoCloud seeds, a metadata server, an
// image archive) comes from tests/fixture.
package e2e
