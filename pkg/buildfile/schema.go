package buildfile

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// SchemaID is the $id of the generated JSON schema.
const SchemaID = "https://github.com/ros-os/ros/yml/ros.schema.json"

// Schema returns a JSON schema (draft-07) of the build format for editors,
// generated from the Go types with the same keys the decoder accepts.
// Every object forbids keys it does not list.
func Schema() ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}, names: map[reflect.Type]string{}}
	top := g.object(reflect.TypeFor[Config]())
	top["$schema"] = "http://json-schema.org/draft-07/schema#"
	top["$id"] = SchemaID
	top["title"] = "ros build file (LinuxKit format)"
	top["definitions"] = g.defs
	b, err := json.MarshalIndent(top, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal schema: %w", err)
	}
	return append(b, '\n'), nil
}

type schemaGen struct {
	defs  map[string]any
	names map[reflect.Type]string
}

// docs describes keys in the editor; the key is "Type.key".
var docs = map[string]string{
	"Config.kernel":          "The kernel image and its command line.",
	"Config.init":            "Images unpacked into the root filesystem, in order.",
	"Config.onboot":          "Containers run once at boot, in order, before services start.",
	"Config.onshutdown":      "Containers run once at shutdown, in order.",
	"Config.services":        "Long-running system containers.",
	"Config.files":           "Files, directories and symlinks added to the root filesystem.",
	"Config.volumes":         "Named volumes containers may bind.",
	"Config.trust":           "Accepted for old LinuxKit files and ignored.",
	"Kernel.image":           "The kernel image reference.",
	"Kernel.cmdline":         "The kernel command line.",
	"Kernel.binary":          "The kernel's file name in the image (default kernel).",
	"Kernel.tar":             "The modules tar's file name in the image (default kernel.tar; empty for none).",
	"Kernel.ucode":           "The microcode cpio's file name in the image.",
	"Image.name":             "The container name; unique among services.",
	"Image.image":            "The image reference, e.g. ros/getty or linuxkit/getty:TAG.",
	"Image.capabilities":     "Capabilities, replacing the image label's; [all] or [none] allowed.",
	"Image.capabilities.add": "Capabilities added to the image label's.",
	"Image.binds":            "Bind mounts src:dst[:opts], replacing the image label's.",
	"Image.binds.add":        "Bind mounts src:dst[:opts] added to the image label's.",
	"Image.tmpfs":            "tmpfs mounts dst[:opts].",
	"Image.command":          "The command, replacing the image's.",
	"Image.env":              "Environment NAME=value, replacing the image's.",
	"Image.net":              "Network namespace: host (default), new, none or a path to join.",
	"Image.pid":              "PID namespace: new (default), host or a path to join.",
	"Image.ipc":              "IPC namespace: host (default), new or a path to join.",
	"Image.uts":              "UTS namespace: host (default), new or a path to join.",
	"Image.rlimits":          "Resource limits name,soft,hard.",
	"Image.runtime":          "Set-up done by the service runner when the container starts.",
	"File.path":              "Path in the root filesystem.",
	"File.contents":          "The file's contents.",
	"File.source":            "A file to copy, relative to this build file; ~/ is the home directory.",
	"File.metadata":          "Write the merged build here as yaml or json.",
	"File.optional":          "Skip the entry when source cannot be read.",
	"File.mode":              "Octal permissions as a string, e.g. \"0644\".",
}

func (g *schemaGen) name(t reflect.Type) string {
	if n, ok := g.names[t]; ok {
		return n
	}
	n := t.Name()
	for _, other := range g.names {
		if other == n {
			n = strings.ReplaceAll(t.PkgPath(), "/", ".") + "." + n
			break
		}
	}
	g.names[t] = n
	return n
}

// object is the schema of struct type t, inline.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range fieldsOf(t).fields {
		ft := fieldType(t, f.index)
		s := g.of(ft)
		if d := docs[t.Name()+"."+f.key]; d != "" {
			s = withDoc(s, d)
		}
		props[f.key] = s
		if f.required {
			required = append(required, f.key)
		}
	}
	o := map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	if required != nil {
		o["required"] = required
	}
	return o
}

func withDoc(s map[string]any, d string) map[string]any {
	if _, isRef := s["$ref"]; isRef {
		// draft-07 ignores siblings of $ref; wrap it
		return map[string]any{"description": d, "allOf": []any{s}}
	}
	s["description"] = d
	return s
}

func fieldType(t reflect.Type, index []int) reflect.Type {
	for i, x := range index {
		if i > 0 {
			t = derefType(t)
		}
		t = t.Field(x).Type
	}
	return t
}

// of is the schema of a value of type t.
func (g *schemaGen) of(t reflect.Type) map[string]any {
	t = derefType(t)
	if t == reflect.TypeFor[ID]() {
		return map[string]any{"anyOf": []any{
			map[string]any{"type": "string"},
			map[string]any{"type": "integer", "minimum": 0, "maximum": 4294967295},
		}}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem())}
	case reflect.Struct:
		n := g.name(t)
		if _, done := g.defs[n]; !done {
			g.defs[n] = nil // reserve against recursion
			g.defs[n] = g.object(t)
		}
		return map[string]any{"$ref": "#/definitions/" + n}
	case reflect.Interface:
		return map[string]any{}
	}
	return map[string]any{}
}
