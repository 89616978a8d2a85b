package caddydjango

import (
	"fmt"
	"path/filepath"
	"testing"
)

func TestHandlerMediaDispositionHeader(t *testing.T) {
	for name, want := range map[string]string{
		"report.pdf":        `attachment; filename="report.pdf"`,
		"my report (1).csv": `attachment; filename="my report (1).csv"`,
		"Übersicht.pdf":     `attachment; filename="_bersicht.pdf"; filename*=UTF-8''%C3%9Cbersicht.pdf`,
		`a"b\c.txt`:         `attachment; filename="a_b_c.txt"; filename*=UTF-8''a%22b%5Cc.txt`,
		"100%25.txt":        `attachment; filename="100_25.txt"; filename*=UTF-8''100%2525.txt`,
		"tab\there.txt":     `attachment; filename="tab_here.txt"; filename*=UTF-8''tab%09here.txt`,
		"x;y=z.txt":         `attachment; filename="x;y=z.txt"`,
		"/":                 "attachment",
	} {
		if got := attachmentHeader(name); got != want {
			t.Errorf("attachmentHeader(%q) =\n %s, want\n %s", name, got, want)
		}
	}
}

func TestHandlerMediaDispositionModes(t *testing.T) {
	auto := &mediaSite{}
	all := &mediaSite{attachment: true}
	for _, tc := range []struct{ rel, auto, all string }{
		{"/uploads/photo.png", "", `attachment; filename="photo.png"`},
		{"/uploads/page.html", "attachment", `attachment; filename="page.html"`},
		{"/doc.PDF", "", `attachment; filename="doc.PDF"`},
	} {
		if got := auto.contentDisposition(tc.rel); got != tc.auto {
			t.Errorf("auto %s: %q, want %q", tc.rel, got, tc.auto)
		}
		if got := all.contentDisposition(tc.rel); got != tc.all {
			t.Errorf("attachment %s: %q, want %q", tc.rel, got, tc.all)
		}
	}
	for v, want := range map[string]bool{"": false, "auto": false, "attachment": true} {
		if got, err := parseDisposition(v); err != nil || got != want {
			t.Errorf("parseDisposition(%q) = %v, %v", v, got, err)
		}
	}
	if _, err := parseDisposition("inline"); err == nil {
		t.Error("disposition inline accepted")
	}
}

// TestFilesMediaDispositionAttachment: with `disposition attachment`
// every media file is a download named after its file, also for encoded
// and non-ASCII paths; the default keeps images inline.
func TestFilesMediaDispositionAttachment(t *testing.T) {
	tester := newFilesTester(t)
	media := t.TempDir()
	mustWrite(t, filepath.Join(media, "photo.png"), "png")
	mustWrite(t, filepath.Join(media, "docs", "Übersicht 2024.pdf"), "pdf")
	mustWrite(t, filepath.Join(media, "page.html"), "<script>")
	attach, auto := freePort(t), freePort(t)
	loadFilesConfig(t, tester, fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tmedia /media/ %s {\n\t\t\tdisposition attachment\n\t\t}\n\t}\n}\n", attach, media)+
		fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tmedia /media/ %s\n\t}\n}\n", auto, media))

	for _, tc := range []struct {
		port           int
		method, target string
		want           string
	}{
		{attach, "GET", "/media/photo.png", `attachment; filename="photo.png"`},
		{attach, "HEAD", "/media/photo.png", `attachment; filename="photo.png"`},
		{attach, "GET", "/media/ph%6fto.png", `attachment; filename="photo.png"`},
		{attach, "GET", "/media/page.html", `attachment; filename="page.html"`},
		{attach, "GET", "/media/docs/%C3%9Cbersicht%202024.pdf", `attachment; filename="_bersicht 2024.pdf"; filename*=UTF-8''%C3%9Cbersicht%202024.pdf`},
		{attach, "GET", "/media/missing.png", ""},
		{auto, "GET", "/media/photo.png", ""},
		{auto, "GET", "/media/page.html", "attachment"},
	} {
		st, hdr, _ := rawRequest(t, fmt.Sprintf("127.0.0.1:%d", tc.port), tc.method, tc.target)
		if got := hdr.Get("Content-Disposition"); got != tc.want {
			t.Errorf("%s %s (port %d): %d, Content-Disposition %q, want %q", tc.method, tc.target, tc.port, st, got, tc.want)
		}
	}
}
