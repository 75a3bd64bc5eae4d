package rosd

import (
	"strconv"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSpecHookOOMScoreAdj(t *testing.T) {
	score := func(v int) *int { return &v }
	tests := []struct {
		name string
		def  int  // the manager's default: 0 when rosd cannot lower scores
		set  *int // the YAML's oomScoreAdj
		want *int
	}{
		{name: "unset gets the service default", def: ServiceOOMScoreAdj, want: score(ServiceOOMScoreAdj)},
		{name: "the YAML's value stays", def: ServiceOOMScoreAdj, set: score(250), want: score(250)},
		{name: "an explicit 0 stays", def: ServiceOOMScoreAdj, set: score(0), want: score(0)},
		{name: "no default leaves it unset", want: nil},
		{name: "no default keeps the YAML's value", set: score(-500), want: score(-500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := &specs.Spec{Process: &specs.Process{OOMScoreAdj: tt.set}}
			if err := (&manager{oomScoreAdj: tt.def}).specHook(&service{})(sp); err != nil {
				t.Fatal(err)
			}
			got := sp.Process.OOMScoreAdj
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Errorf("oomScoreAdj = %s, want %s", fmtScore(got), fmtScore(tt.want))
			}
		})
	}
	if err := (&manager{oomScoreAdj: ServiceOOMScoreAdj}).specHook(&service{})(&specs.Spec{}); err == nil {
		t.Error("specHook on a spec without a process: no error")
	}
}

func fmtScore(p *int) string {
	if p == nil {
		return "unset"
	}
	return strconv.Itoa(*p)
}
