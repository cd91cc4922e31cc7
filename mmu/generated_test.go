package mmu

import (
	"testing"

	"github.com/pagesnap/pagesnap/internal/gencheck"
)

// TestGeneratedUpToDate: copy_tamago_amd64.s and copy_tamago_arm64.s are
// what mkcopy.go makes now (run go generate ./mmu after changing it).
func TestGeneratedUpToDate(t *testing.T) {
	gencheck.UpToDate(t, ".", func(tmp string) []string { return []string{"run", "mkcopy.go", "-d", tmp} },
		"copy_tamago_amd64.s", "copy_tamago_arm64.s")
}
