package rosd

import "testing"

func TestReadinessFiresOnceWhenAllRun(t *testing.T) {
	fired := 0
	r := newReadiness([]string{"a", "b"}, func() { fired++ })
	r.running("a")
	r.running("a") // a restart is not a new service
	if fired != 0 {
		t.Fatalf("fired after a only = %d, want 0", fired)
	}
	r.running("b")
	r.running("b")
	r.running("a")
	if fired != 1 {
		t.Errorf("fired = %d, want exactly 1", fired)
	}
}
