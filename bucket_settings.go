package caddydjango

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Media from django-storages' S3 backend, with no configuration: when the
// project's default storage (STORAGES["default"] on Django 4.2+,
// DEFAULT_FILE_STORAGE before) is `storages.backends.s3boto3.S3Boto3Storage`
// (`storages.backends.s3.S3Storage` since django-storages 1.14) or a
// subclass, settings_probe.py builds that storage (without connecting) and
// reports the bucket it writes to; django_files serves that bucket under
// the settings' MEDIA_URL. The credentials are the storage's own (its
// settings, else the environment it sees) and are never reported.

// MediaBucketSettings is the bucket of the project's default storage, as
// the storage resolves it.
type MediaBucketSettings struct {
	Backend         string `json:"backend"`
	Bucket          string `json:"bucket"`
	Endpoint        string `json:"endpoint,omitempty"`
	Region          string `json:"region,omitempty"`
	AddressingStyle string `json:"addressing_style,omitempty"`
	Location        string `json:"location,omitempty"`
	CustomDomain    string `json:"custom_domain,omitempty"`
	QuerystringAuth bool   `json:"querystring_auth"`

	creds bucketCredentials // never marshalled
}

// bucketCredentials are the storage's access key, secret key and session
// token (empty: not in its settings or environment).
type bucketCredentials struct {
	AccessKey    string `json:"access_key"`
	SecretKey    string `json:"secret_key"`
	SessionToken string `json:"session_token"`
}

// url is the bucket as `s3://bucket/location` (the media root in the
// paths' reports).
func (b *MediaBucketSettings) url() string {
	return (&BucketConfig{Name: b.Bucket, Prefix: strings.Trim(b.Location, "/")}).String()
}

// config is the BucketConfig of the settings' bucket; its values are used
// as they are (no placeholders).
func (b *MediaBucketSettings) config() *BucketConfig {
	style := b.AddressingStyle
	if style == "" {
		style = addressingAuto
	}
	return &BucketConfig{
		Name: b.Bucket, Prefix: strings.Trim(b.Location, "/"), Endpoint: b.Endpoint, Region: b.Region,
		AddressingStyle: style, AccessKey: b.creds.AccessKey, SecretKey: b.creds.SecretKey,
		SessionToken: b.creds.SessionToken, literal: true,
	}
}

// key identifies everything the bucket's client is built from, the
// credentials included (hashed): a deploy that changes any of them
// rebuilds the media site.
func (b *MediaBucketSettings) key() string {
	h := sha256.New()
	for _, s := range []string{b.Bucket, b.Endpoint, b.Region, b.AddressingStyle, b.Location,
		b.creds.AccessKey, b.creds.SecretKey, b.creds.SessionToken} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
