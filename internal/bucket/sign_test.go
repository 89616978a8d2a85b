//go:build linux

package bucket

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/s3utils"
	"github.com/minio/minio-go/v7/pkg/signer"
)

// signCases are requests as Client builds them (and a few it does not:
// a query, a non-canonical field name, white space to trim).
func signCases() []*http.Request {
	mk := func(method, host, path, query string, hdr http.Header) *http.Request {
		u := &url.URL{Scheme: "http", Host: host, Path: path, RawPath: s3utils.EncodePath(path), RawQuery: query}
		h := http.Header{"X-Amz-Content-Sha256": {emptySHA256}}
		for k, v := range hdr {
			h[k] = v
		}
		return &http.Request{Method: method, URL: u, Header: h, Host: host}
	}
	return []*http.Request{
		mk(http.MethodGet, "127.0.0.1:9000", "/bucket/media/obj.bin", "", nil),
		mk(http.MethodHead, "s3.eu-west-3.amazonaws.com", "/media/a b/ü+%.txt", "", nil),
		mk(http.MethodGet, "bucket.s3.amazonaws.com", "/media/x.png", "", http.Header{
			"Range": {"bytes=100-199"}, "If-None-Match": {`"abc"`, `W/"def"`}, "If-Modified-Since": {"Mon,  07 Dec 2026   04:00:00 GMT "}}),
		mk(http.MethodGet, "127.0.0.1:9000", "/bucket/k", "", http.Header{"User-Agent": {"x"}, "Accept-Encoding": {"gzip"}, "x-amz-meta-lower": {"v"}}),
		mk(http.MethodPut, "127.0.0.1:9000", "/bucket/", "b=2&a=1 2", http.Header{"Content-Type": {"text/plain"}}),
	}
}

func clone(r *http.Request) *http.Request {
	c := *r
	u := *r.URL
	c.URL = &u
	c.Header = r.Header.Clone()
	return &c
}

// TestSignLikeMinio: sign.go's Authorization is minio-go's, byte for
// byte, with and without a session token, across a change of day (the
// cached key is not reused for the next day).
func TestSignLikeMinio(t *testing.T) {
	for _, token := range []string{"", "session-token"} {
		s := &v4Signer{accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: token, region: "eu-west-3"}
		for i, r := range signCases() {
			want := signer.SignV4(*clone(r), s.accessKey, s.secretKey, token, s.region)
			at, err := time.Parse(amzDateFormat, want.Header.Get("X-Amz-Date"))
			if err != nil {
				t.Fatal(err)
			}
			for _, when := range []time.Time{at, at, at.Add(-24 * time.Hour), at} {
				got := clone(r)
				s.sign(got, when)
				ref := want
				if !when.Equal(at) {
					ref = freshSign(r, s, when)
				}
				if g, w := got.Header.Get("Authorization"), ref.Header.Get("Authorization"); g != w {
					t.Errorf("case %d (token %q, %s):\n got %s\nwant %s", i, token, when, g, w)
				}
				for _, k := range []string{"X-Amz-Date", "X-Amz-Security-Token"} {
					if g, w := got.Header.Get(k), ref.Header.Get(k); g != w {
						t.Errorf("case %d: %s %q, want %q", i, k, g, w)
					}
				}
				if got.URL.RawQuery != ref.URL.RawQuery {
					t.Errorf("case %d: query %q, want %q", i, got.URL.RawQuery, ref.URL.RawQuery)
				}
			}
		}
	}
}

// freshSign is r signed at when by a signer with nothing cached: minio-go
// signs at time.Now() only, so for another day the reference is sign.go
// without its cache (and back on minio-go's day, minio-go again).
func freshSign(r *http.Request, s *v4Signer, when time.Time) *http.Request {
	fresh := &v4Signer{accessKey: s.accessKey, secretKey: s.secretKey, sessionToken: s.sessionToken, region: s.region}
	ref := clone(r)
	fresh.sign(ref, when)
	return ref
}

// TestSignKeyPerDay: the key is derived once per day, and again for
// another day.
func TestSignKeyPerDay(t *testing.T) {
	s := &v4Signer{accessKey: "AK", secretKey: "SK", region: "us-east-1"}
	day1 := time.Date(2026, 12, 7, 23, 59, 59, 0, time.UTC)
	r := signCases()[0]
	s.sign(clone(r), day1)
	k1 := s.day.Load()
	s.sign(clone(r), day1.Add(-time.Hour))
	if s.day.Load() != k1 {
		t.Error("the key was derived again on the same day")
	}
	s.sign(clone(r), day1.Add(time.Second))
	k2 := s.day.Load()
	if k2 == k1 || k2.date != "20261208" || bytes.Equal(k1.key, k2.key) {
		t.Errorf("next day: key for %s (same object: %v)", k2.date, k2 == k1)
	}
}

// TestSignedByServer: the server (versitygw checks signatures) accepts
// sign.go's requests for keys that need escaping, with ranges and
// conditions, and refuses them with a wrong secret.
func TestSignedByServer(t *testing.T) {
	srv, c := s3(t)
	body := randomBytes(t, 300)
	for _, key := range []string{"plain.bin", "a b/ü+%.txt", "x/(1)=~!'*.png"} {
		put(t, c, key, body, nil)
		obj, got := readObj(t, c, http.MethodGet, key, http.Header{"Range": {"bytes=10-19"}, "If-None-Match": {`"nope"`}})
		if obj.StatusCode != http.StatusPartialContent || !bytes.Equal(got, body[10:20]) {
			t.Errorf("%q: %d, %d bytes", key, obj.StatusCode, len(got))
		}
	}
	bad := newClient(t, srv, c.Bucket(), "wrong-secret")
	_, err := bad.Read(context.Background(), http.MethodGet, "plain.bin", nil)
	if e, ok := err.(*Error); !ok || e.Code != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v, want SignatureDoesNotMatch", err)
	}
}

// BenchmarkSign: signing one read as Client does (a GET with a Range),
// minio-go's signer against sign.go's.
func BenchmarkSign(b *testing.B) {
	r := signCases()[2]
	s := &v4Signer{accessKey: "AKIDEXAMPLE", secretKey: "secret", region: "us-east-1"}
	b.Run("minio-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := clone(r)
			signer.SignV4(*req, s.accessKey, s.secretKey, "", s.region)
		}
	})
	b.Run("sign.go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := clone(r)
			s.sign(req, time.Now())
		}
	})
}

// BenchmarkCheckPreconditions: a read without conditions (most of them)
// against the bucket's 200.
func BenchmarkCheckPreconditions(b *testing.B) {
	h := http.Header{"Etag": {`"abc"`}, "Last-Modified": {"Mon, 07 Dec 2026 00:47:18 GMT"}, "Content-Length": {"4096"}}
	hdr := http.Header{"Accept": {"*/*"}, "User-Agent": {"wrk"}}
	b.ReportAllocs()
	for b.Loop() {
		if checkPreconditions(hdr, h) != 0 {
			b.Fatal("a condition")
		}
	}
}

// TestEncodePath: encodePath is s3utils.EncodePath.
func TestEncodePath(t *testing.T) {
	for _, p := range []string{"", "/", "/b/media/obj-4KB.bin", "/b/a b/ü+%.txt", "/b/x(1)=!'*", "/b/~_-.", "/b/\xff", "/b/日本"} {
		if got, want := encodePath(p), s3utils.EncodePath(p); got != want {
			t.Errorf("%q: %q, want %q", p, got, want)
		}
	}
}

// BenchmarkEncodePath: an object's path as Client builds it.
func BenchmarkEncodePath(b *testing.B) {
	const p = "/bench-media/media/obj-4KB.bin"
	b.Run("s3utils", func(b *testing.B) {
		for b.Loop() {
			_ = s3utils.EncodePath(p)
		}
	})
	b.Run("encodePath", func(b *testing.B) {
		for b.Loop() {
			_ = encodePath(p)
		}
	})
}
