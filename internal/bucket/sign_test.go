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

// amzDateFormat is the layout of X-Amz-Date.
const amzDateFormat = "20060102T150405Z"

func clone(r *http.Request) *http.Request {
	c := *r
	u := *r.URL
	c.URL = &u
	c.Header = r.Header.Clone()
	return &c
}

// TestSignLikeMinio: the AWS SDK's signer, as sign.go sets it up, signs
// Client's requests exactly as minio-go does (two implementations of
// SigV4, byte for byte), with and without a session token, on minio-go's
// day and (against itself, fresh) on another. Case 3's User-Agent and
// Accept-Encoding are left out: minio-go signs neither, the SDK the
// second; Client's requests have neither.
func TestSignLikeMinio(t *testing.T) {
	for _, token := range []string{"", "session-token"} {
		s := newV4Signer("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token, "eu-west-3")
		for i, r := range signCases() {
			if i == 3 {
				continue
			}
			want := signer.SignV4(*clone(r), s.creds.AccessKeyID, s.creds.SecretAccessKey, token, s.region)
			at, err := time.Parse(amzDateFormat, want.Header.Get("X-Amz-Date"))
			if err != nil {
				t.Fatal(err)
			}
			for _, when := range []time.Time{at, at.Add(-24 * time.Hour), at} {
				got := clone(r)
				if err := s.sign(got, when); err != nil {
					t.Fatal(err)
				}
				ref := want
				if !when.Equal(at) {
					ref = clone(r)
					if err := newV4Signer(s.creds.AccessKeyID, s.creds.SecretAccessKey, token, s.region).sign(ref, when); err != nil {
						t.Fatal(err)
					}
				}
				if g, w := got.Header.Get("Authorization"), ref.Header.Get("Authorization"); g != w {
					t.Errorf("case %d (token %q, %s):\n got %s\nwant %s", i, token, when, g, w)
				}
				for _, k := range []string{"X-Amz-Date", "X-Amz-Security-Token"} {
					if g, w := got.Header.Get(k), ref.Header.Get(k); g != w {
						t.Errorf("case %d: %s %q, want %q", i, k, g, w)
					}
				}
			}
		}
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
// minio-go's signer against the AWS SDK's (sign.go).
func BenchmarkSign(b *testing.B) {
	r := signCases()[2]
	s := newV4Signer("AKIDEXAMPLE", "secret", "", "us-east-1")
	b.Run("minio-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := clone(r)
			signer.SignV4(*req, s.creds.AccessKeyID, s.creds.SecretAccessKey, "", s.region)
		}
	})
	b.Run("aws-sdk-go-v2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := clone(r)
			_ = s.sign(req, time.Now())
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
