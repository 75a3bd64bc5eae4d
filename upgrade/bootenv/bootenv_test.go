package bootenv

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
)

// states returns an old and a new sealed env (an upgrade arming a trial of
// B with long command lines, so the variables run past the first sector)
// and their blocks.
func states(t *testing.T) (old, new *grubenv.Env, oldB, newB []byte) {
	t.Helper()
	cmd := "console=tty0 console=ttyS0,115200n8 panic=5 loglevel=4 " + strings.Repeat("x", 200)
	old, _ = grubenv.New(
		grubenv.Var{Name: grub.VarGood, Value: "A"},
		grubenv.Var{Name: grub.VarTry, Value: ""},
		grubenv.Var{Name: grub.VarTries, Value: "0"},
		grubenv.Var{Name: grub.CmdlineVar("A"), Value: cmd + " a"},
		grubenv.Var{Name: grub.CmdlineVar("B"), Value: ""},
	)
	if err := grub.SetSlot(old, "A", grub.SlotGood, "v1"); err != nil {
		t.Fatal(err)
	}
	if err := grub.SetSlot(old, "B", grub.SlotWriting, ""); err != nil {
		t.Fatal(err)
	}
	new, _ = grubenv.New(old.Vars()...)
	if err := grub.TryNext(new, "B", cmd+" b2", 1); err != nil {
		t.Fatal(err)
	}
	if err := grub.SetSlot(new, "B", grub.SlotTrying, "v2"); err != nil {
		t.Fatal(err)
	}
	var err error
	if oldB, err = sealed(old); err != nil {
		t.Fatal(err)
	}
	if newB, err = sealed(new); err != nil {
		t.Fatal(err)
	}
	if i := strings.LastIndex(string(newB), grub.VarSumEnd); i < 600 {
		t.Fatalf("test block too short: %s at %d, want past the first sector", grub.VarSumEnd, i)
	}
	return old, new, oldB, newB
}

var errAny = errors.New("any error")

func garbage(b []byte) []byte {
	g := append([]byte(nil), b...)
	copy(g, "# GRUB Environment Blok\n")
	return g
}

func TestChoose(t *testing.T) {
	old, new, oldB, newB := states(t)
	_ = old
	torn := append(append([]byte(nil), newB[:512]...), oldB[512:]...)
	badSum := append([]byte(nil), newB...)
	i := strings.Index(string(badSum), "ros_try=B")
	badSum[i+len("ros_try=")] = 'A' // a flipped value under an intact seal
	unsealed, _ := grubenv.New(grubenv.Var{Name: grub.VarGood, Value: "B"})
	unsealedB, _ := unsealed.Marshal()
	missing := fs.ErrNotExist

	tests := []struct {
		name       string
		p          []byte
		perr       error
		b          []byte
		berr       error
		want       *grubenv.Env
		copy       string
		verified   bool
		primaryErr error // errors.Is target for Report.PrimaryErr; errAny: any
	}{
		{"both good", newB, nil, newB, nil, new, Primary, true, nil},
		{"primary garbage signature", garbage(oldB), nil, newB, nil, new, Backup, true, grubenv.ErrInvalid},
		{"primary torn", torn, nil, newB, nil, new, Backup, true, errAny},
		{"primary bad sum", badSum, nil, newB, nil, new, Backup, true, grub.ErrSeal},
		{"primary missing", nil, missing, newB, nil, new, Backup, true, missing},
		{"primary short", newB[:100], nil, newB, nil, new, Backup, true, grubenv.ErrInvalid},
		{"old primary, new backup (cut between the writes)", oldB, nil, newB, nil, old, Primary, true, nil},
		{"new primary, torn backup", newB, nil, torn, nil, new, Primary, true, nil},
		{"unsealed primary, no backup (an old disk)", unsealedB, nil, nil, missing, unsealed, Primary, false, grub.ErrSeal},
		{"torn primary, garbage backup: as GRUB, the primary", torn, nil, garbage(newB), nil, nil, Primary, false, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rep, err := Choose(tt.p, tt.perr, tt.b, tt.berr)
			if err != nil {
				t.Fatalf("Choose() = %v", err)
			}
			if tt.want != nil && !reflect.DeepEqual(got.Vars(), tt.want.Vars()) {
				t.Errorf("Choose() = %q, want %q", got.Vars(), tt.want.Vars())
			}
			if rep.Copy != tt.copy || rep.Verified != tt.verified {
				t.Errorf("Choose() report = %v, want copy %s verified %v", rep, tt.copy, tt.verified)
			}
			anyErr := errors.Is(tt.primaryErr, errAny)
			if anyErr && rep.PrimaryErr == nil || tt.primaryErr == nil && rep.PrimaryErr != nil ||
				tt.primaryErr != nil && !anyErr && !errors.Is(rep.PrimaryErr, tt.primaryErr) {
				t.Errorf("Choose() report primary error = %v, want %v", rep.PrimaryErr, tt.primaryErr)
			}
			if !strings.Contains(rep.String(), tt.copy) {
				t.Errorf("Report.String() = %q, does not name %s", rep.String(), tt.copy)
			}
		})
	}
	if _, _, err := Choose(garbage(newB), nil, nil, missing); !errors.Is(err, ErrNoEnv) {
		t.Errorf("Choose(garbage, missing) = %v, want ErrNoEnv", err)
	}
}

// grubLoad reads a block as GRUB's load_env does (ok false: load_env
// fails). grubenv.ParseLoose is checked against grub-editenv in pkg/grubenv.
func grubLoad(b []byte) (map[string]string, bool) {
	e, err := grubenv.ParseLoose(b)
	if err != nil {
		return nil, false
	}
	return varMap(e), true
}

func varMap(e *grubenv.Env) map[string]string {
	m := map[string]string{}
	for _, v := range e.Vars() {
		m[v.Name] = v.Value
	}
	return m
}

// TestTornAtEveryByte cuts the primary's write at every byte, both ways
// round (new bytes before the cut and old after, as a sequential write
// stops; and the reverse, as sectors written out of order leave), with the
// backup already holding the new block. Go must load exactly the old or
// the new state, and so must GRUB's rule (primary if its ros_sum equals
// its ros_sum_end, else the backup), emulated on GRUB's own parser.
func TestTornAtEveryByte(t *testing.T) {
	transitions := map[string]func(*grubenv.Env) error{
		"arm trial": nil, // states()
		"mark writing": func(e *grubenv.Env) error {
			return grub.BeginWrite(e, "B", "v3")
		},
		"mark good": func(e *grubenv.Env) error { return grub.MarkGood(e, "B") },
	}
	for name, change := range transitions {
		t.Run(name, func(t *testing.T) {
			old, new, oldB, newB := states(t)
			if change != nil {
				old = new
				oldB = newB
				new, _ = grubenv.New(old.Vars()...)
				if err := change(new); err != nil {
					t.Fatal(err)
				}
				var err error
				if newB, err = sealed(new); err != nil {
					t.Fatal(err)
				}
			}
			oldM, newM := varMap(old), varMap(new)
			for _, dir := range []string{"new|old", "old|new"} {
				for k := 0; k <= grubenv.Size; k++ {
					first, second := newB, oldB
					if dir == "old|new" {
						first, second = oldB, newB
					}
					torn := append(append([]byte(nil), first[:k]...), second[k:]...)
					got, rep, err := Choose(torn, nil, newB, nil)
					if err != nil {
						t.Fatalf("%s cut at %d: Choose() = %v", dir, k, err)
					}
					if m := varMap(got); !reflect.DeepEqual(m, oldM) && !reflect.DeepEqual(m, newM) {
						t.Fatalf("%s cut at %d: Go loaded a mix (%v):\n%q", dir, k, rep, got.Vars())
					}
					g, ok := grubLoad(torn)
					if !ok || g[grub.VarSum] != g[grub.VarSumEnd] {
						continue // GRUB takes the backup: the new state
					}
					if !reflect.DeepEqual(g, oldM) && !reflect.DeepEqual(g, newM) {
						t.Fatalf("%s cut at %d: GRUB would accept a mixed primary:\n%v", dir, k, g)
					}
				}
			}
		})
	}
}
