package caddydjango

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	// the modules of a stock Caddy (reverse_proxy, log encoders...), which
	// the examples use next to this plugin's, as in the binary users build
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

// The documentation's examples must work when copied: every fenced block
// tagged `caddyfile` in README.md and docs/*.md is a complete Caddyfile that
// Caddy's caddyfile adapter accepts without a warning (so it is also
// `caddy fmt` clean), and every block tagged `json` is valid JSON; one with
// "apps" is a whole Caddy config that `caddy validate` accepts. Snippets
// that are not a whole Caddyfile use another tag (`text`).

// docsBlock is one fenced code block of a Markdown file.
type docsBlock struct {
	file string
	line int // line of the opening fence
	tag  string
	body string
}

func (b docsBlock) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// docsFiles lists README.md and docs/*.md.
func docsFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	more, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, more...)
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("documentation file missing: %v", err)
		}
	}
	return files
}

// docsFencedBlocks returns the fenced code blocks (``` or ~~~) of a Markdown
// file, with the tag of their opening fence (its first word, lower case).
func docsFencedBlocks(t *testing.T, path string) []docsBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		blocks []docsBlock
		cur    *docsBlock
		fence  string
		body   strings.Builder
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if cur == nil {
			if indent > 3 {
				continue
			}
			for _, f := range []string{"```", "~~~"} {
				if strings.HasPrefix(trimmed, f) {
					run := len(trimmed) - len(strings.TrimLeft(trimmed, f[:1]))
					fence = trimmed[:run]
					info := strings.Fields(strings.TrimSpace(trimmed[run:]))
					tag := ""
					if len(info) > 0 {
						tag = strings.ToLower(strings.Trim(info[0], "{}."))
					}
					cur = &docsBlock{file: path, line: n, tag: tag}
					body.Reset()
					break
				}
			}
			continue
		}
		if indent <= 3 && strings.HasPrefix(trimmed, fence) && strings.TrimSpace(strings.TrimLeft(trimmed, fence[:1])) == "" {
			cur.body = body.String()
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		body.WriteString(line)
		body.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Errorf("%s: code block never closed", cur)
	}
	return blocks
}

// docsCaddyfileLineRE finds the line number in an adapter error or warning
// ("Caddyfile:3 - Error during parsing: ...").
var docsCaddyfileLineRE = regexp.MustCompile(`Caddyfile:(\d+)`)

// docsLine maps a line of a block's Caddyfile to the Markdown file's line.
func docsLine(b docsBlock, msg string) int {
	if m := docsCaddyfileLineRE.FindStringSubmatch(msg); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
			return b.line + n
		}
	}
	return b.line
}

// docsAdapt adapts src as Caddy does for `caddy run --adapter
// caddyfile`; a warning (unformatted input, a useless directive) is an
// error too: the docs' examples should be exactly what users keep.
func docsAdapt(src []byte) ([]byte, error) {
	out, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(src, map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return nil, err
	}
	if len(warnings) > 0 {
		var msgs []string
		for _, w := range warnings {
			where := w.File
			if w.Line > 0 {
				where += ":" + strconv.Itoa(w.Line)
			}
			if w.Directive != "" {
				where += " (" + w.Directive + ")"
			}
			msgs = append(msgs, where+": "+w.Message)
		}
		return out, fmt.Errorf("adapted with warnings: %s", strings.Join(msgs, "; "))
	}
	return out, nil
}

func TestDocsCaddyfileExamplesAdapt(t *testing.T) {
	count := 0
	for _, file := range docsFiles(t) {
		for _, b := range docsFencedBlocks(t, file) {
			if b.tag != "caddyfile" {
				continue
			}
			count++
			if _, err := docsAdapt([]byte(b.body)); err != nil {
				t.Errorf("%s:%d: the caddyfile block starting at line %d does not adapt: %v",
					b.file, docsLine(b, err.Error()), b.line, err)
			}
		}
	}
	if count == 0 {
		t.Fatal("no ```caddyfile block found in README.md or docs/*.md")
	}
	t.Logf("%d caddyfile blocks checked", count)
}

// TestDocsDemoCaddyfileAdapts checks the Caddyfile that scripts/demo.sh
// runs.
func TestDocsDemoCaddyfileAdapts(t *testing.T) {
	path := filepath.Join("testdata", "demo", "Caddyfile")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := docsAdapt(src); err != nil {
		line := 0
		if m := docsCaddyfileLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		t.Errorf("%s:%d: does not adapt: %v", path, line, err)
	}
}

func TestDocsJSONExamplesAreValid(t *testing.T) {
	for _, file := range docsFiles(t) {
		for _, b := range docsFencedBlocks(t, file) {
			if b.tag != "json" {
				continue
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(b.body), &v); err != nil {
				t.Errorf("%s: json block is not a JSON object: %v", b, err)
				continue
			}
			if _, ok := v["apps"]; !ok {
				continue
			}
			// a whole config: what `caddy validate` does (provisions,
			// starts nothing)
			var cfg caddy.Config
			if err := json.Unmarshal([]byte(b.body), &cfg); err != nil {
				t.Errorf("%s: not a Caddy config: %v", b, err)
				continue
			}
			if err := caddy.Validate(&cfg); err != nil {
				t.Errorf("%s: caddy validate rejects the config: %v", b, err)
			}
		}
	}
}
