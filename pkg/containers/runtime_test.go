package containers

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestListBundlesAndRead(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"010-b", "000-a", "002-c"} {
		if err := os.MkdirAll(filepath.Join(dir, n, "rootfs"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "stray-file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bs, err := ListBundles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
	}
	if want := []string{"000-a", "002-c", "010-b"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ListBundles() = %v, want %v", names, want)
	}
	if bs, err := ListBundles(filepath.Join(dir, "missing")); err != nil || len(bs) != 0 {
		t.Errorf("ListBundles(missing) = %v, %v, want empty, nil", bs, err)
	}

	b := bs[0].Path
	rt, err := ReadRuntime(b)
	if err != nil || !reflect.DeepEqual(rt, Runtime{}) {
		t.Errorf("ReadRuntime(no file) = %+v, %v, want empty, nil", rt, err)
	}
	if err := os.WriteFile(filepath.Join(b, "runtime.json"), []byte(`{"mkdir":["/var/x"],"bindNS":{"net":"/run/netns/a"},"namespace":"other"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rt, err = ReadRuntime(b)
	if err != nil || rt.Mkdir[0] != "/var/x" || rt.BindNS.Net != "/run/netns/a" || rt.Namespace != "other" {
		t.Errorf("ReadRuntime() = %+v, %v", rt, err)
	}
	if err := os.WriteFile(filepath.Join(b, "config.json"), []byte(`{"ociVersion":"1.0.2","root":{"path":"rootfs","readonly":true},"process":{"args":["/bin/true"],"cwd":"/"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := ReadSpec(b)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Root.Path != filepath.Join(b, "rootfs") || !spec.Root.Readonly {
		t.Errorf("ReadSpec().Root = %+v, want absolute %s/rootfs, readonly", spec.Root, b)
	}
}
