package caddydjango

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
	"go.uber.org/zap"
)

// End-to-end tests of media from django-storages' S3 backend with no media
// line in the Caddyfile: real django-storages and boto3 (Debian's) write
// the uploads to a real S3 server; django_files reads the bucket from the
// project's settings (testdata/demo/demo/settings_bucket.py: STORAGES on
// Django 4.2, the AWS_* settings on 3.2).

// requireStoragesBoto3 fails the test when django-storages' S3 backend is
// missing, naming the Debian packages.
func requireStoragesBoto3(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/lib/python3/dist-packages/storages/backends/s3boto3.py"); err != nil {
		t.Fatal(missingPackages("python3-django-storages", "python3-django-storages-boto3", "python3-boto3"))
	}
}

// bucketProject runs a copy of the demo project with settings_bucket under
// its own Caddy, storing media in bucket on s3 with the server's keys in
// the environment (as a container gets them).
func startBucketProject(t *testing.T, s3 *testkit.S3Server, bucket, site string) *djangoSite {
	t.Helper()
	requireStoragesBoto3(t)
	d := newDjangoProject(t)
	env := append(d.Env, "DJANGO_BUCKET="+bucket, "DJANGO_BUCKET_ENDPOINT="+s3.URL,
		"AWS_ACCESS_KEY_ID="+s3.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3.SecretKey)
	s := &djangoSite{project: d, gport: freePort(t), hport: freePort(t)}
	s.caddyProc = startCaddy(t, t.TempDir(), func(admin string) string {
		s.admin = admin
		django := fmt.Sprintf(`
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings_bucket
		env DJANGO_SITE_URL http://127.0.0.1:%d
		gunicorn demo.wsgi:application {
			command %s
			bind 127.0.0.1:%d
			workers 1
		}`, d.Root, s.hport, systemGunicorn, s.gport)
		return globalBlock(admin, django) + fmt.Sprintf("\n:%d {\n\t%s\n}\n", s.hport, site)
	}, env...)
	s.waitState(gunicornName, StateRunning, 60*time.Second)
	return s
}

// uploadTo posts a file to the demo's upload view and returns the URL
// Django built for it.
func uploadTo(t *testing.T, s *djangoSite, name string, content []byte) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	resp, err := http.Post(s.url("/upload/"), mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		URL string `json:"url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != 200 {
		t.Fatalf("upload %s: %d %v", name, resp.StatusCode, err)
	}
	return res.URL
}

// TestBucketMediaFromDjangoStorages: a file uploaded through Django on one
// Caddy (django-storages writes it to the bucket) is served by django_files
// on a second Caddy with another working directory and no media line, from
// the bucket the settings name, with the media rules; the credentials are
// in neither Caddy's status, `caddy django files`, nor logs.
func TestBucketMediaFromDjangoStorages(t *testing.T) {
	s3 := startS3(t)
	c := newBucket(t, s3, "site-media")
	a := startBucketProject(t, s3, "site-media", "django_files")
	b := startBucketProject(t, s3, "site-media", "django_files")

	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 5000)...)
	for _, tc := range []struct {
		name       string
		content    []byte
		wantType   string
		attachment bool
	}{
		{"evil.html", mustRead(t, "testdata/files/evil.html"), "text/html; charset=utf-8", true},
		{"evil.svg", mustRead(t, "testdata/files/evil.svg"), "image/svg+xml", true},
		{"photo.png", png, "image/png", false},
	} {
		link := uploadTo(t, a, tc.name, tc.content)
		u, err := url.Parse(link)
		if err != nil || u.Host != fmt.Sprintf("127.0.0.1:%d", a.hport) || !strings.HasPrefix(u.Path, "/media/uploads/") {
			t.Fatalf("%s: Django built %q, want a /media/ URL on the site", tc.name, link)
		}
		// django-storages stored it under the location, with its type
		obj, err := c.Read(context.Background(), http.MethodHead, strings.TrimPrefix(u.Path, "/"), nil)
		if err != nil {
			t.Fatalf("%s: not in the bucket at %s: %v", tc.name, u.Path, err)
		}
		obj.Body.Close()
		for _, s := range []*djangoSite{b, a} {
			before := s3.CountRequests("site-media", strings.TrimPrefix(u.Path, "/"))
			code, h, body := getWithHeaders(t, s.url(u.Path))
			if code != 200 || body != string(tc.content) {
				t.Errorf("%s from :%d: %d, %d bytes", u.Path, s.hport, code, len(body))
				continue
			}
			wantHeader(t, h, "Content-Type", tc.wantType)
			wantHeader(t, h, "X-Content-Type-Options", "nosniff")
			wantHeader(t, h, "Content-Security-Policy", "sandbox")
			if got := h.Get("Content-Disposition"); (got == "attachment") != tc.attachment {
				t.Errorf("%s: Content-Disposition %q", u.Path, got)
			}
			waitFor(t, 10*time.Second, func() bool {
				return s3.CountRequests("site-media", strings.TrimPrefix(u.Path, "/")) > before
			}, "the bucket's log")
			if n := s3.CountRequests("site-media", strings.TrimPrefix(u.Path, "/")) - before; n != 1 {
				t.Errorf("%s: %d bucket requests for one GET", u.Path, n)
			}
		}
	}

	fs := b.filesStatus()
	if len(fs.Handlers) != 1 {
		t.Fatalf("/django/files: %+v", fs)
	}
	m := fs.Handlers[0].Media
	if !m.Served || m.URL != "/media/" || m.Bucket != "s3://site-media/media" || m.Endpoint != s3.URL || m.DirFrom != fromSettings {
		t.Errorf("status of media: %+v", m)
	}
	if mb := fs.Settings.Settings.MediaBucket; mb == nil || mb.Backend != "storages.backends.s3boto3.S3Boto3Storage" || mb.Location != "media" {
		t.Errorf("the settings' bucket: %+v", mb)
	}
	raw, _, _ := runCLI(t, "files", "--json", "--address", b.admin)
	table, _, code := runCLI(t, "files", "--address", b.admin)
	status, _, _ := runCLI(t, "status", "--address", b.admin)
	if code != 0 || !strings.Contains(table, "s3://site-media/media at "+s3.URL) {
		t.Errorf("caddy django files: exit %d\n%s", code, table)
	}
	for what, out := range map[string]string{"files --json": raw, "files": table, "status": status} {
		if strings.Contains(out, s3.SecretKey) || strings.Contains(out, "secret_key") {
			t.Errorf("caddy django %s shows the secret key:\n%s", what, out)
		}
	}
	for _, p := range []*djangoSite{a, b} {
		for _, e := range p.entries(func(logEntry) bool { return true }) {
			if line, _ := json.Marshal(e); bytes.Contains(line, []byte(s3.SecretKey)) {
				t.Errorf("a log line shows the secret key: %s", line)
			}
		}
	}
}

// TestProbeReadsMediaBucket: the settings probe reads the bucket of
// django-storages' S3 backend as the storage resolves it (a project's
// subclass with its own location, OPTIONS on Django 4.2, AWS_* settings,
// credentials from the environment), reports a storage it cannot build,
// and keeps the credentials out of what is shown.
func TestProbeReadsMediaBucket(t *testing.T) {
	requireDjango(t)
	requireStoragesBoto3(t)
	dir := t.TempDir()
	mustWrite(t, dir+"/mystorage.py", `from storages.backends.s3boto3 import S3Boto3Storage


class MediaStorage(S3Boto3Storage):
    location = "uploads"
    custom_domain = "www.example.com"
`)
	common := "SECRET_KEY = 'x'\nMEDIA_URL = '/media/'\nAWS_STORAGE_BUCKET_NAME = 'site-bucket'\nAWS_S3_ENDPOINT_URL = 'http://127.0.0.1:9000'\nAWS_S3_REGION_NAME = 'eu-west-3'\n"
	mustWrite(t, dir+"/s_subclass.py", common+`
import django
if django.VERSION >= (4, 2):
    STORAGES = {"default": {"BACKEND": "mystorage.MediaStorage", "OPTIONS": {"addressing_style": "path"}},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
else:
    DEFAULT_FILE_STORAGE = "mystorage.MediaStorage"
    AWS_S3_ADDRESSING_STYLE = "path"
`)
	mustWrite(t, dir+"/s_broken.py", common+`
import django
if django.VERSION >= (4, 2):
    STORAGES = {"default": {"BACKEND": "storages.backends.s3boto3.S3Boto3Storage", "OPTIONS": {"no_such_option": 1}},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
else:
    DEFAULT_FILE_STORAGE = "storages.backends.s3boto3.S3Boto3Storage"
    AWS_S3_ADDRESSING_STYLE = "path"
    AWS_S3_SESSION_PROFILE = "p"
    AWS_S3_ACCESS_KEY_ID = "x"
`)
	mustWrite(t, dir+"/s_local.py", common)
	probe := func(module string) *SettingsStatus {
		t.Helper()
		env := append(os.Environ(), "DJANGO_SETTINGS_MODULE="+module, "AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=THE-SECRET", "AWS_SESSION_TOKEN=THE-TOKEN")
		st, _ := readSettings(context.Background(), probeInput{python: []string{systemPython}, dir: dir, env: env}, zap.NewNop())
		if st.Error != "" {
			t.Fatalf("%s: %s", module, st.Error)
		}
		return st
	}
	st := probe("s_subclass")
	mb := st.Settings.MediaBucket
	want := MediaBucketSettings{Backend: "mystorage.MediaStorage", Bucket: "site-bucket", Endpoint: "http://127.0.0.1:9000", Region: "eu-west-3",
		AddressingStyle: "path", Location: "uploads", CustomDomain: "www.example.com", QuerystringAuth: true,
		creds: bucketCredentials{AccessKey: "AKID", SecretKey: "THE-SECRET", SessionToken: "THE-TOKEN"}}
	if mb == nil || *mb != want {
		t.Fatalf("media bucket %+v, want %+v", mb, want)
	}
	if shown, _ := json.Marshal(st); bytes.Contains(shown, []byte("THE-SECRET")) || bytes.Contains(shown, []byte("THE-TOKEN")) {
		t.Errorf("the reading shows the credentials: %s", shown)
	}
	h := &DjangoFiles{root: dir, logger: zap.NewNop()}
	p := h.resolvePaths(mediaKind, st.Settings)
	if !p.Served || p.URL != "/media/" || p.Bucket != "s3://site-bucket/uploads" || p.Dir != "" || p.DirFrom != fromSettings || p.Endpoint != "http://127.0.0.1:9000" {
		t.Errorf("media paths: %+v", p)
	}
	// a deploy that changes only the secret rebuilds the media site
	other := *st.Settings
	otherBucket := *mb
	otherBucket.creds.SecretKey = "rotated"
	other.MediaBucket = &otherBucket
	if q := h.resolvePaths(mediaKind, &other); reflect.DeepEqual(q, p) {
		t.Errorf("a rotated secret leaves the paths equal")
	}
	// the Caddyfile's root wins; so does its bucket over MEDIA_ROOT
	h.Media = &MediaFiles{Root: "/srv/uploads"}
	if q := h.resolvePaths(mediaKind, st.Settings); q.Bucket != "" || q.Dir != "/srv/uploads" || q.DirFrom != fromCaddyfile {
		t.Errorf("Caddyfile root over the settings' bucket: %+v", q)
	}
	h.Media = &MediaFiles{Bucket: &BucketConfig{Name: "mine", Endpoint: "http://s3.local"}}
	if q := h.resolvePaths(mediaKind, &DjangoSettings{MediaURL: "/m/", MediaRoot: "/srv/m"}); q.Bucket != "s3://mine" || q.Dir != "" || q.Endpoint != "http://s3.local" || q.DirFrom != fromCaddyfile {
		t.Errorf("Caddyfile bucket over MEDIA_ROOT: %+v", q)
	}
	h.Media = nil

	st = probe("s_broken")
	if st.Settings.MediaBucket != nil || !strings.Contains(st.Settings.MediaStorageError, "storages.backends.s3boto3.S3Boto3Storage: ") {
		t.Errorf("a storage that cannot be built: %+v", st.Settings)
	}
	if q := h.resolvePaths(mediaKind, st.Settings); q.Served || !strings.Contains(q.Reason, "cannot be read") {
		t.Errorf("media paths with a broken storage: %+v", q)
	}
	if st = probe("s_local"); st.Settings.MediaBucket != nil || st.Settings.MediaStorageError != "" {
		t.Errorf("FileSystemStorage read as a bucket: %+v", st.Settings)
	}
}
