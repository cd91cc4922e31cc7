// Package depcheck finds board packages in the dependencies of packages
// that must not depend on a board (issue 14: drivers take a base, the
// engine knows no machine). Its test runs it on the engine and the
// drivers for the host and for GOOS=tamago on both architectures.
package depcheck

import (
	"fmt"
	"os/exec"
	"strings"
)

// BoardPrefixes are the import path prefixes of board packages: this
// module's and tamago's.
var BoardPrefixes = []string{
	"github.com/pagesnap/pagesnap/board/",
	"github.com/usbarmory/tamago/board/",
}

// NotBoards are packages under a board prefix that are no board: x86
// port I/O instructions (IN, OUT), which the amd64 kernel's serial and
// fw_cfg code use on any PC-like machine.
var NotBoards = []string{"github.com/pagesnap/pagesnap/board/ioport"}

// BoardImports runs `goTool list -deps` on pkgs in dir with env added to
// the environment and returns, for each package of pkgs that depends on a
// board, a line naming the package and the board packages it reaches.
func BoardImports(goTool, dir string, env, pkgs []string) ([]string, error) {
	var found []string
	for _, p := range pkgs {
		cmd := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", p)
		cmd.Dir = dir
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return nil, fmt.Errorf("%s list -deps %s: %v\n%s", goTool, p, err, ee.Stderr)
			}
			return nil, err
		}
		var boards []string
	deps:
		for _, dep := range strings.Fields(string(out)) {
			for _, nb := range NotBoards {
				if dep == nb {
					continue deps
				}
			}
			for _, b := range BoardPrefixes {
				if strings.HasPrefix(dep+"/", b) {
					boards = append(boards, dep)
				}
			}
		}
		if len(boards) > 0 {
			found = append(found, fmt.Sprintf("%s imports %s", p, strings.Join(boards, ", ")))
		}
	}
	return found, nil
}
