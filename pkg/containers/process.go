package containers

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// PrepareProcess does what runtime.json asks once the container's process
// exists but before it runs: create or move network interfaces into its
// network namespace and bind its namespaces at the requested paths (tree
// paths under root). Every item is attempted; the failures are returned
// joined, and callers treat them as warnings (best effort).
func PrepareProcess(root string, pid int, rt Runtime) error {
	var errs []error
	for _, iface := range rt.Interfaces {
		if err := prepareInterface(pid, iface); err != nil {
			errs = append(errs, err)
		}
	}
	binds := []struct{ ns, path string }{
		{"cgroup", rt.BindNS.Cgroup}, {"ipc", rt.BindNS.Ipc}, {"mnt", rt.BindNS.Mnt},
		{"net", rt.BindNS.Net}, {"pid", rt.BindNS.Pid}, {"user", rt.BindNS.User}, {"uts", rt.BindNS.Uts},
	}
	for _, b := range binds {
		if b.path == "" {
			continue
		}
		if err := bindNS(b.ns, filepath.Join(root, b.path), pid); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func prepareInterface(pid int, iface Interface) error {
	if iface.Name == "" {
		return errors.New("runtime interface without a name")
	}
	if iface.Peer != "" && iface.Add == "" {
		iface.Add = "veth"
	}
	var ns any = netlink.NsPid(pid)
	move := false
	if iface.CreateInRoot || iface.Add == "veth" {
		ns, move = nil, true
	}
	var link netlink.Link
	switch iface.Add {
	case "":
		l, err := netlink.LinkByName(iface.Name)
		if err != nil {
			return fmt.Errorf("find interface %s: %w", iface.Name, err)
		}
		link, move = l, true
	case "veth":
		if iface.Peer == "" {
			return fmt.Errorf("veth %s needs a peer", iface.Name)
		}
		link = &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: iface.Name, Namespace: ns}, PeerName: iface.Peer}
	default:
		link = &netlink.GenericLink{LinkAttrs: netlink.LinkAttrs{Name: iface.Name, Namespace: ns}, LinkType: iface.Add}
	}
	if iface.Add != "" {
		if err := netlink.LinkAdd(link); err != nil {
			return fmt.Errorf("add %s interface %s: %w", iface.Add, iface.Name, err)
		}
	}
	if move {
		if err := netlink.LinkSetNsPid(link, pid); err != nil {
			return fmt.Errorf("move interface %s into pid %d: %w", iface.Name, pid, err)
		}
	}
	return nil
}

func bindNS(ns, path string, pid int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("bind %s namespace: %w", ns, err)
	}
	// A previous instance's namespace may still be bound there: replace it.
	_ = unix.Unmount(path, unix.MNT_DETACH)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		return fmt.Errorf("bind %s namespace: %w", ns, err)
	}
	f.Close()
	src := fmt.Sprintf("/proc/%d/ns/%s", pid, ns)
	if err := unix.Mount(src, path, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", src, path, err)
	}
	return nil
}
