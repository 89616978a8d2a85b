package caddydjango

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// FuzzEnvFile reads arbitrary env_file contents. Property: no panic; an
// error names the file and line (path:N: ...); what is read can be given
// to a process (os/exec refuses a NUL in the environment, so a value that
// would only fail at every start is refused here, with its line); a key is
// never empty and has no '=', blank or control character; and a plain
// KEY=VALUE line reads back as itself.
//
// The seeds (below and testdata/fuzz/FuzzEnvFile) run in the normal suite;
// fuzz beyond them with
//
//	go test -run '^$' -fuzz FuzzEnvFile -fuzztime 5m .
func FuzzEnvFile(f *testing.F) {
	for _, seed := range []string{
		"DJANGO_SETTINGS_MODULE=config.settings\nDEBUG=0\n",
		"# comment\n\nexport A=1\r\nB = two words # comment\n",
		`A="quoted \"x\" \n"` + "\n" + `B='single $HOME'` + "\n",
		"A=\"unterminated\nB=ok\n",
		"=novalue\n", "no equals sign\n", "A B=1\n", "A=\"\\u0000\"\n",
		"export\n", "export =1\n", "A=#not a comment\n", "A='\n", "A=\"\"\"\n", "\xff\xfe=1\n",
	} {
		f.Add(seed)
	}
	lineErr := regexp.MustCompile(`^.+:[0-9]+: `)
	path := filepath.Join(f.TempDir(), ".env")
	f.Fuzz(func(t *testing.T, content string) {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		pairs, err := readEnvFile(path)
		if err != nil {
			if !strings.HasPrefix(err.Error(), path+":") || !lineErr.MatchString(err.Error()) {
				t.Fatalf("error without file:line: %v", err)
			}
			return
		}
		for _, kv := range pairs {
			k, v := kv[0], kv[1]
			if k == "" || strings.ContainsFunc(k, func(r rune) bool { return r == '=' || r <= ' ' || r == 0x7f }) {
				t.Fatalf("bad key %q from %q", k, content)
			}
			if strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0) {
				t.Fatalf("NUL in %q=%q: no process could start with it", k, v)
			}
		}
		// a single plain line reads back as itself
		if k, v, ok := strings.Cut(content, "="); ok && plainEnvWord.MatchString(k) && plainEnvWord.MatchString(v) {
			if len(pairs) != 1 || pairs[0] != [2]string{k, v} {
				t.Fatalf("%q read as %q", content, pairs)
			}
		}
	})
}

// plainEnvWord is a key or value that needs no quoting in a dotenv file.
var plainEnvWord = regexp.MustCompile(`^[A-Za-z0-9_./:@-]+$`)
