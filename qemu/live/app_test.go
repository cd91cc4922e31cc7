package live

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestExampleApp builds examples/trigger, an application that embeds
// pagesnap through its public API and takes a snapshot on its own
// trigger while its work goes on, and drives it with App: only the
// layout: and snap: complete lines pagesnap prints, a reference saved at
// the instant, and a page-by-page comparison of the image with it.
func TestExampleApp(t *testing.T) {
	goBin := os.Getenv("TAMAGO_GO")
	if goBin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TAMAGO_GO is not set: `make test` sets it to the GOOS=tamago toolchain")
		}
		t.Skip("TAMAGO_GO is not set: `make test` sets it to the GOOS=tamago toolchain")
	}
	elf := filepath.Join(t.TempDir(), "trigger.elf")
	cmd := exec.Command(goBin, "build", "-ldflags", "-T 0x10010000 -R 0x1000", "-o", elf, "../../examples/trigger")
	cmd.Env = append(os.Environ(), "GOOS=tamago", "GOARCH=amd64", "GOOSPKG=github.com/usbarmory/tamago")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	rep, err := App(context.Background(), AppOptions{Kernel: elf, Log: logWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verify == nil || !rep.Verify.OK() || rep.Complete == "" {
		t.Fatalf("report %+v", rep)
	}
	t.Logf("%s\n%v", rep.Complete, rep.Verify)
}
