package caddydjango

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// End-to-end test of process output: each line a process writes becomes
// one entry of Caddy's log.

func TestOutputLinesBecomeLogEntries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "talk.sh")
	// 2000 numbered lines on stdout, interleaved stderr lines, a 300 KB line,
	// CRLF, and a final line without a newline.
	body := `i=0
while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done
echo "to stderr" >&2
head -c 300000 /dev/zero | tr '\0' x; echo
printf 'windows\r\n'
printf 'no newline at end'
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	c := startWithDjango(t, dir, "\t\tprocess talk /bin/sh "+script+" {\n\t\t\tautorestart never\n\t\t\tstartsecs 0\n\t\t}")
	isTalk := func(e logEntry) bool { return e.str("logger") == "django.talk" }
	c.waitLog(20*time.Second, "last line", func(e logEntry) bool { return isTalk(e) && e.str("msg") == "no newline at end" })
	var stdout []string
	pid := c.entries(msgIs("process started", isProcess("talk")))[0].num("pid")
	for _, e := range c.entries(isTalk) {
		if e.num("pid") != pid {
			t.Fatalf("entry without the right pid: %v", e)
		}
		if e.str("stream") == "stdout" {
			stdout = append(stdout, e.str("msg"))
		} else if e.str("msg") != "to stderr" || e.str("stream") != "stderr" {
			t.Fatalf("unexpected entry %v", e)
		}
	}
	if len(stdout) != 2003 {
		t.Fatalf("got %d stdout entries, want 2003", len(stdout))
	}
	for i := 0; i < 2000; i++ {
		if stdout[i] != fmt.Sprintf("line %d", i) {
			t.Fatalf("entry %d = %q: lines lost, split or reordered", i, stdout[i])
		}
	}
	if stdout[2000] != strings.Repeat("x", 300000) {
		t.Errorf("long line: %d bytes", len(stdout[2000]))
	}
	if stdout[2001] != "windows" {
		t.Errorf("CRLF line = %q", stdout[2001])
	}
}
