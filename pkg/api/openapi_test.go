package api

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type openAPIDoc struct {
	OpenAPI    string                                     `yaml:"openapi"`
	Paths      map[string]map[string]yaml.Node            `yaml:"paths"`
	Components struct{ Schemas map[string]openAPISchema } `yaml:"components"`
}

type openAPISchema struct {
	Properties map[string]yaml.Node `yaml:"properties"`
	AllOf      []openAPISchema      `yaml:"allOf"`
	Ref        string               `yaml:"$ref"`
}

func loadOpenAPI(t *testing.T) (openAPIDoc, []byte) {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	return doc, b
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPIRoutes checks that openapi.yaml documents exactly the routes
// the handler serves.
func TestOpenAPIRoutes(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Errorf("openapi = %q, want 3.0.x", doc.OpenAPI)
	}
	var documented []string
	for path, item := range doc.Paths {
		for key := range item {
			if slices.Contains(httpMethods, key) {
				documented = append(documented, strings.ToUpper(key)+" "+path)
			}
		}
	}
	var served []string
	for _, rt := range routes() {
		served = append(served, rt.method+" "+rt.path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is served but not in openapi.yaml", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("route %s is in openapi.yaml but not served", r)
		}
	}
	if len(served) != len(documented) {
		t.Errorf("served %d routes, openapi.yaml documents %d", len(served), len(documented))
	}
}

// TestOpenAPIPathParameters checks every {param} of a path is declared.
func TestOpenAPIPathParameters(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	params := map[string]bool{}
	for path, item := range doc.Paths {
		declared := map[string]bool{}
		collect := func(n yaml.Node) {
			var ps []struct {
				Name string `yaml:"name"`
				In   string `yaml:"in"`
				Ref  string `yaml:"$ref"`
			}
			if err := n.Decode(&ps); err != nil {
				t.Fatalf("%s parameters: %v", path, err)
			}
			for _, p := range ps {
				if p.Ref == "#/components/parameters/ServiceName" {
					declared["name"] = true
				}
				if p.In == "path" {
					declared[p.Name] = true
				}
			}
		}
		if n, ok := item["parameters"]; ok {
			collect(n)
		}
		for _, m := range httpMethods {
			if op, ok := item[m]; ok {
				var o struct {
					Parameters yaml.Node `yaml:"parameters"`
				}
				if err := op.Decode(&o); err != nil {
					t.Fatal(err)
				}
				if o.Parameters.Kind != 0 {
					collect(o.Parameters)
				}
			}
		}
		for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
			params[m[1]] = true
			if !declared[m[1]] {
				t.Errorf("path %s: parameter %s not declared", path, m[1])
			}
		}
	}
	if !params["name"] {
		t.Errorf("no path declares {name}")
	}
}

// TestOpenAPIRefs checks every $ref points at a defined component.
func TestOpenAPIRefs(t *testing.T) {
	_, b := loadOpenAPI(t)
	var root map[string]any
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`\$ref: "#/components/(\w+)/(\w+)"`).FindAllStringSubmatch(string(b), -1)
	if len(refs) == 0 {
		t.Fatal("no $ref in openapi.yaml")
	}
	comps := root["components"].(map[string]any)
	for _, r := range refs {
		kind, _ := comps[r[1]].(map[string]any)
		if _, ok := kind[r[2]]; !ok {
			t.Errorf("$ref %s/%s: not defined", r[1], r[2])
		}
	}
}

// TestOpenAPISchemas checks the documented properties of each schema are
// the JSON fields of its Go type.
func TestOpenAPISchemas(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	types := map[string]any{
		"Error":             errorBody{},
		"System":            systemJSON{},
		"Service":           Service{},
		"ServiceDetail":     ServiceDetail{},
		"AddServiceRequest": AddServiceRequest{},
		"ApplyResult":       ApplyResult{},
		"Validation":        Validation{},
		"ConfigRecord":      ConfigRecord{},
		"Event":             Event{},
		"Engine":            Engine{},
		"ExecRequest":       ExecRequest{},
		"OSSlot":            OSSlot{},
		"UpgradeRecord":     UpgradeRecord{},
		"OSStatus":          OSStatus{},
		"OSVersion":         OSVersion{},
		"UpgradeRequest":    UpgradeRequest{},
		"UpgradeResult":     UpgradeResult{},
		"Progress":          Progress{},
		"RollbackResult":    RollbackResult{},
		"InstallRequest":    InstallRequest{},
	}
	for name, v := range types {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s: not in openapi.yaml", name)
			continue
		}
		got := schemaProps(doc, s)
		want := jsonFields(reflect.TypeOf(v))
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("schema %s properties = %v, want %v (the JSON fields of %T)", name, got, want, v)
		}
	}
}

func schemaProps(doc openAPIDoc, s openAPISchema) []string {
	var out []string
	if ref, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		return schemaProps(doc, doc.Components.Schemas[ref])
	}
	for k := range s.Properties {
		out = append(out, k)
	}
	for _, sub := range s.AllOf {
		out = append(out, schemaProps(doc, sub)...)
	}
	return out
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}
