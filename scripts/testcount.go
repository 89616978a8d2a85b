//go:build ignore

// testcount reads `go test -json` on stdin and prints what a plain `go test`
// would (package results, and the output of failed and skipped tests), then a
// closing line of the form
//
//	N passed, N failed, N skipped
//
// Every test and subtest counts once per run (the input may hold several
// runs, one after the other); a package run that fails outside its tests (a
// build error, a panic or log.Fatal in TestMain) counts as one failed.
// Lines that are not JSON (go's own errors) are printed as they are.
// scripts/test.sh builds it with `go build scripts/testcount.go`.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	var passed, failed, skipped int
	buffered := map[string][]string{} // package + " " + test: its output so far
	testFailed := map[string]bool{}   // package: one of its tests failed
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	for in.Scan() {
		line := in.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			fmt.Fprintf(out, "%s\n", line)
			continue
		}
		key := ev.Package + " " + ev.Test
		switch {
		case ev.Action == "output" || ev.Action == "build-output":
			if ev.Test == "" {
				fmt.Fprint(out, ev.Output)
			} else if !isProgress(ev.Output) {
				buffered[key] = append(buffered[key], ev.Output)
			}
		case ev.Test == "":
			switch {
			case ev.Action == "start": // a package's run (scripts/test.sh runs some twice)
				delete(testFailed, ev.Package)
			case ev.Action == "fail" && !testFailed[ev.Package]:
				failed++
			}
		case ev.Action == "pass" || ev.Action == "fail" || ev.Action == "skip":
			switch ev.Action {
			case "pass":
				passed++
			case "fail":
				failed++
				testFailed[ev.Package] = true
			case "skip":
				skipped++
			}
			if ev.Action != "pass" {
				fmt.Fprint(out, strings.Join(buffered[key], ""))
			}
			delete(buffered, key)
		}
		out.Flush()
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(out, "testcount: reading go test's output: %v\n", err)
		out.Flush()
		os.Exit(2)
	}
	fmt.Fprintf(out, "%d passed, %d failed, %d skipped\n", passed, failed, skipped)
}

// isProgress reports whether a test's output line is one of go test's
// progress markers, which a plain run does not print.
func isProgress(s string) bool {
	s = strings.TrimLeft(s, " ")
	return strings.HasPrefix(s, "=== RUN") || strings.HasPrefix(s, "=== PAUSE") ||
		strings.HasPrefix(s, "=== CONT") || strings.HasPrefix(s, "=== NAME")
}
