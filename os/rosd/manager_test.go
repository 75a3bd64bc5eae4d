package rosd

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSpecHookOOMScoreAdj(t *testing.T) {
	score := func(v int) *int { return &v }
	tests := []struct {
		name string
		set  *int // the YAML's oomScoreAdj
		want int
	}{
		{name: "unset gets the service default", want: ServiceOOMScoreAdj},
		{name: "the YAML's value stays", set: score(250), want: 250},
		{name: "an explicit 0 stays", set: score(0), want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := &specs.Spec{Process: &specs.Process{OOMScoreAdj: tt.set}}
			if err := (&manager{}).specHook(&service{})(sp); err != nil {
				t.Fatal(err)
			}
			if sp.Process.OOMScoreAdj == nil || *sp.Process.OOMScoreAdj != tt.want {
				t.Errorf("oomScoreAdj = %v, want %d", sp.Process.OOMScoreAdj, tt.want)
			}
		})
	}
	if err := (&manager{}).specHook(&service{})(&specs.Spec{}); err == nil {
		t.Error("specHook on a spec without a process: no error")
	}
}
