package live

import "testing"

// TestParseFatalFault reads the kernel's fatal report lines without a
// kernel ELF: decoded instruction bytes, unreadable ones (a fetch fault),
// and the nested-fault line that precedes a report.
func TestParseFatalFault(t *testing.T) {
	f, err := ParseFatalFault("pagesnap: FATAL page fault: cr2=0x0000000000000000 error=0x0000000000000000 (not-present,read) rip=0x00000000100d41a3 code=488b02e85593faff488d158ef2010048 frames=0x00000000100c70c9 0x00000000100c6f6e ", "")
	if err != nil {
		t.Fatal(err)
	}
	if f.Unreadable || f.Inst.Text == "" || len(f.Frames) != 2 || f.RIP != 0x100d41a3 {
		t.Errorf("decoded report: %+v", f)
	}
	f, err = ParseFatalFault("pagesnap: FATAL page fault: cr2=0x0000000000000010 error=0x0000000000000000 (not-present,read) rip=0x0000000000000010 code=none(instruction-bytes-unreadable) frames=0x00000000100d2b6b ", "")
	if err != nil {
		t.Fatal(err)
	}
	if !f.Unreadable || f.Inst.Text != "" || f.RIP != 0x10 || f.CR2 != 0x10 || len(f.Frames) != 1 || f.Frames[0].PC != 0x100d2b6b {
		t.Errorf("unreadable report: %+v", f)
	}
	if _, err := ParseFatalFault("pagesnap: FATAL page fault: cr2=0x10 error=0x0 (not-present,read) rip=0x10 code=zz", ""); err == nil {
		t.Error("bad instruction bytes accepted")
	}
	g := nestedRE.FindStringSubmatch("pagesnap: FATAL nested page fault: the page-fault handler faulted while handling cr2=0x0000000000000000 error=0x0000000000000000 rip=0x00000000100d2c6e")
	if g == nil || hex64(g[3]) != 0x100d2c6e {
		t.Errorf("nested line: %q", g)
	}
}
