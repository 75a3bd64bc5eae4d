// Package e2e boots real ros images in QEMU and drives them through the
// serial console and SSH. The tests build the images once per run (from
// yml/ros.yml plus a test layer that adds an SSH key) and skip under
// -short or where QEMU is missing.
package e2e
