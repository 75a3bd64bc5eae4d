package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/assemble"
	"github.com/ros-os/ros/pkg/ocistore"
	"github.com/ros-os/ros/pkg/osbuild"
	"github.com/ros-os/ros/pkg/osimage"
	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
	"github.com/ros-os/ros/pkg/sshcheck"
	"github.com/ros-os/ros/tests/fixture"
	"github.com/ros-os/ros/tools/hostcmd"
)

// bootTimeout bounds one boot to `ros: services ready` under TCG.
const bootTimeout = 5 * time.Minute

// readyLine is what rosd prints on the console once every service runs
// (and not `ros: services ready except NAME`, when one does not).
var readyLine = regexp.MustCompile(`ros: services ready\r?\n`)

// images are the test images, built once per test binary run.
type images struct {
	Base string // output base: Base.iso, Base.raw, Base-kernel ...
	Key  []byte // private key whose public half is in /home/ros/.ssh
	err  error
}

var (
	buildOnce sync.Once
	built     images

	dockerOnce  sync.Once
	dockerBuilt images

	xzOnce  sync.Once
	xzBuilt images
)

// testImages builds (once) yml/ros.yml plus the test layers as iso, raw and
// kernel+initrd, version v1.
func testImages(t *testing.T) images {
	t.Helper()
	qemutest.Require(t)
	buildOnce.Do(func() {
		built = buildImages(buildSpec{name: "ros-e2e", files: []string{"../../yml/ros.yml"}, formats: []string{"iso", "raw", "kernel+initrd"}})
	})
	if built.err != nil {
		t.Fatalf("build test images: %v", built.err)
	}
	return built
}

// dockerImages builds (once) yml/ros.yml, yml/docker.yml and the test
// layers as a raw disk.
func dockerImages(t *testing.T) images {
	t.Helper()
	qemutest.Require(t)
	dockerOnce.Do(func() {
		dockerBuilt = buildImages(buildSpec{name: "ros-e2e-docker", files: []string{"../../yml/ros.yml", "../../yml/docker.yml"}, formats: []string{"raw"}})
	})
	if dockerBuilt.err != nil {
		t.Fatalf("build Docker test image: %v", dockerBuilt.err)
	}
	return dockerBuilt
}

// xzImages builds (once) yml/ros.yml and the test layers as a raw disk
// whose root squashfs is xz (ros build --compression xz).
func xzImages(t *testing.T) images {
	t.Helper()
	qemutest.Require(t)
	xzOnce.Do(func() {
		xzBuilt = buildImages(buildSpec{name: "ros-e2e-xz", files: []string{"../../yml/ros.yml"}, formats: []string{"raw"}, compression: "xz"})
	})
	if xzBuilt.err != nil {
		t.Fatalf("build xz test image: %v", xzBuilt.err)
	}
	return xzBuilt
}

// buildSpec is one test build.
type buildSpec struct {
	name    string
	files   []string // build files; the test layers are added after them
	formats []string
	version string // OS version; default v1
	layer   string // one more build-file layer (YAML text), e.g. a broken command line
	// compression is the payload's root compressor; default zstd.
	compression string
}

// buildImages builds spec plus the test layers (the SSH key of
// ~/.cache/ros/e2e and the bundle signing key, see e2eSigningKey) into
// ~/.cache/ros/e2e/NAME.*.
func buildImages(spec buildSpec) images {
	cache, err := ocistore.CacheDir()
	if err != nil {
		return images{err: err}
	}
	dir := filepath.Join(cache, "e2e")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return images{err: err}
	}
	key, layer, err := sshcheck.KeyLayer(dir, "test.yml", "ros-e2e")
	if err != nil {
		return images{err: err}
	}
	signKey, keysLayer, err := fixture.SigningKeyLayer(dir, "e2e-sign")
	if err != nil {
		return images{err: err}
	}
	files := append(append([]string{}, spec.files...), layer, keysLayer)
	if spec.layer != "" {
		extra := filepath.Join(dir, spec.name+"-layer.yml")
		if err := os.WriteFile(extra, []byte(spec.layer), 0o644); err != nil {
			return images{err: err}
		}
		files = append(files, extra)
	}
	version := spec.version
	if version == "" {
		version = "v1"
	}
	store, err := ocistore.Open(filepath.Join(cache, "oci"))
	if err != nil {
		return images{err: err}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	outs := assemble.DefaultOutputs()
	cleanup := osimage.Formats(outs, osimage.Options{
		Logger: log, CacheDir: filepath.Join(cache, "payload"),
		PayloadOutputs: hostcmd.BundleOutputs(signKey, ""),
	})
	defer cleanup()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	base, err := osbuild.Build(ctx, osbuild.Options{
		Files:       files,
		Formats:     spec.formats,
		Dir:         dir,
		Name:        spec.name,
		Store:       store,
		Outputs:     outs,
		Logger:      log,
		Version:     version,
		Compression: spec.compression,
	})
	return images{Base: base, Key: key, err: err}
}

// machine is a booted test VM.
type machine struct {
	t   *testing.T
	vm  *qemu.VM
	cfg qemu.Config // as given to boot or reboot, without the SSH forward
	key []byte      // SSH key of user ros
}

// boot starts cfg with an SSH port forward and waits for services ready.
func boot(t *testing.T, img images, cfg qemu.Config) *machine {
	t.Helper()
	m := start(t, img, cfg)
	m.waitReady()
	return m
}

// start starts cfg with an SSH port forward and returns at once, for a
// test that acts on the console before services are ready.
func start(t *testing.T, img images, cfg qemu.Config) *machine {
	t.Helper()
	return &machine{t: t, vm: qemutest.Start(t, withSSH(cfg)), cfg: cfg, key: img.Key}
}

// pickMenuEntry waits for GRUB's menu on vm's console and picks the entry
// down steps below the default ("v" moves the highlight down).
func pickMenuEntry(ctx context.Context, t *testing.T, vm *qemu.VM, down int) {
	t.Helper()
	if _, err := vm.WaitFor(ctx, "executed automatically"); err != nil {
		t.Fatalf("GRUB menu: %v", err)
	}
	if err := vm.Send(strings.Repeat("v", down) + "\r"); err != nil {
		t.Fatal(err)
	}
}

// withSSH adds the SSH forward and the default memory to cfg.
func withSSH(cfg qemu.Config) qemu.Config {
	cfg.Forwards = append(append([]qemu.Forward{}, cfg.Forwards...), qemu.Forward{Guest: 22})
	if cfg.MemoryMiB == 0 {
		cfg.MemoryMiB = 1024
	}
	return cfg
}

// waitReady waits for the next `ros: services ready` on the console.
func (m *machine) waitReady() {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), bootTimeout)
	defer cancel()
	if _, err := m.vm.WaitForRegexp(ctx, readyLine); err != nil {
		m.t.Fatalf("waiting for %q: %v", readyLine, err)
	}
}

// ssh runs cmd as the ros user and returns its stdout; a non-zero exit
// fails the test.
func (m *machine) ssh(cmd string) string {
	m.t.Helper()
	out, code := m.sshCode(cmd)
	if code != 0 {
		m.t.Fatalf("ssh %q: exit %d: %s", cmd, code, out)
	}
	return out
}

// sshCode runs cmd as ros and returns its combined output and exit code.
func (m *machine) sshCode(cmd string) (string, int) {
	m.t.Helper()
	return m.sshAs("ros", m.key, cmd, nil)
}

// sshAs runs cmd as user, logging in with key and feeding stdin (nil for
// none), and returns its combined output and exit code. A login that does
// not succeed within two minutes fails the test.
func (m *machine) sshAs(user string, key []byte, cmd string, stdin io.Reader) (string, int) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), 2*time.Minute)
	defer cancel()
	c, err := sshcheck.Dial(ctx, sshcheck.Options{
		Addr: fmt.Sprintf("127.0.0.1:%d", m.vm.SSHPort()),
		User: user,
		Key:  key,
	})
	if err != nil {
		m.t.Fatalf("ssh %s@ %q: %v", user, cmd, err)
	}
	defer c.Close()
	res, err := c.RunInput(ctx, cmd, stdin)
	if err != nil {
		m.t.Fatalf("ssh %s@ %q: %v", user, cmd, err)
	}
	return string(res.Stdout) + string(res.Stderr), res.ExitCode
}
