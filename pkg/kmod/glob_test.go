package kmod

import "testing"

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"fs-ext4", "fs-ext4", true},
		{"fs-ext4", "fs-ext3", false},
		{"pci:v00001AF4d00001001sv*sd*bc*sc*i*", "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00", true},
		{"pci:v00001AF4d00001001sv*sd*bc*sc*i*", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", false},
		{"virtio:d00000002v*", "virtio:d00000002v00001AF4", true},
		{"*", "", true},
		{"a*", "", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"cpu:type:x86,ven*fam*mod*:feature:*0094*", "cpu:type:x86,ven0000fam0006mod003D:feature:,0000,0094,00E7", true},
		{"scsi:t-0x0[05]*", "scsi:t-0x05", true},
		{"scsi:t-0x0[05]*", "scsi:t-0x01", false},
		{"x[a-c]y", "xby", true},
		{"x[!a-c]y", "xby", false},
		{"x[^a-c]y", "xdy", true},
		{"x[]]y", "x]y", true},
		{"x[ab", "xa", false},
		{"*b*b*", "abab", true},
		{"*b", "abba", false},
	}
	for _, tt := range tests {
		if got := match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}
