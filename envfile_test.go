package caddydjango

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeEnvFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadEnvFile: the dotenv forms projects use (comments, `export`,
// quotes, CRLF line ends, trailing comments) give the values Django sees.
func TestReadEnvFile(t *testing.T) {
	path := writeEnvFile(t, strings.Join([]string{
		"# settings",
		"",
		"DJANGO_SETTINGS_MODULE=config.settings",
		"export DEBUG=0",
		`SECRET_KEY="a b#c"`,
		`ESCAPED="line1\nline2"`,
		`BROKEN_QUOTE="no \q escape"`,
		`LITERAL='$HOME \n'`,
		"ALLOWED_HOSTS=example.com # the public name",
		"HASH=a#b",
		"  SPACED  =  value  \r",
		"EMPTY=",
		"URL=postgres://u:p@db/app?x=1",
	}, "\n"))
	got, err := readEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{
		{"DJANGO_SETTINGS_MODULE", "config.settings"},
		{"DEBUG", "0"},
		{"SECRET_KEY", "a b#c"},
		{"ESCAPED", "line1\nline2"},
		{"BROKEN_QUOTE", `no \q escape`},
		{"LITERAL", `$HOME \n`},
		{"ALLOWED_HOSTS", "example.com"},
		{"HASH", "a#b"},
		{"SPACED", "value"},
		{"EMPTY", ""},
		{"URL", "postgres://u:p@db/app?x=1"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("readEnvFile:\n got %q\nwant %q", got, want)
	}
}

// TestReadEnvFileErrors: a line that is not KEY=VALUE is an error naming
// the file and line; a missing file is an error.
func TestReadEnvFileErrors(t *testing.T) {
	for _, content := range []string{"A=1\nnot a pair\n", "A=1\n=value\n", "A=1\nTWO WORDS=x\n"} {
		path := writeEnvFile(t, content)
		_, err := readEnvFile(path)
		if err == nil || err.Error() != path+":2: want KEY=VALUE" {
			t.Errorf("readEnvFile(%q) error = %v, want %s:2: want KEY=VALUE", content, err, path)
		}
	}
	if _, err := readEnvFile(filepath.Join(t.TempDir(), "missing")); !os.IsNotExist(err) {
		t.Errorf("missing file: error = %v, want not-exist", err)
	}
}

// TestSetEnv: a key set again replaces the earlier value (env file over
// Env over Caddy's environment) without touching the input slice.
func TestSetEnv(t *testing.T) {
	base := []string{"A=1", "AB=2", "B=3"}
	got := setEnv(base, "A", "9")
	if want := []string{"AB=2", "B=3", "A=9"}; !slices.Equal(got, want) {
		t.Errorf("setEnv = %q, want %q", got, want)
	}
	if want := []string{"A=1", "AB=2", "B=3"}; !slices.Equal(base, want) {
		t.Errorf("setEnv modified its input: %q", base)
	}
	if got := sortedKeys(map[string]string{"b": "", "a": "", "c": ""}); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("sortedKeys = %q", got)
	}
}
