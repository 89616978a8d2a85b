package bucket

import (
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// v4Signer signs requests with AWS Signature Version 4 in the Authorization
// header, with the AWS SDK's signer: it derives the signing key (four HMACs
// over the secret, the day, the region and the service) once a day, where
// minio-go's signer.SignV4 derives it for every request and escapes the
// path again with a regular expression (29 µs against 7 µs a read on the
// usual 2-core machine, about a tenth of Caddy's CPU for a 4 KB object:
// BenchmarkSign). The URL's path is the escaped one objectURL built and is
// signed as it is sent (S3 wants it escaped once).
type v4Signer struct {
	signer *v4.Signer
	creds  aws.Credentials
	region string
}

func newV4Signer(accessKey, secretKey, sessionToken, region string) *v4Signer {
	return &v4Signer{
		signer: v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }),
		creds:  aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey, SessionToken: sessionToken},
		region: region,
	}
}

// sign sets X-Amz-Date (and X-Amz-Security-Token) and Authorization on
// req, signed at now. The payload hash is req's X-Amz-Content-Sha256.
func (s *v4Signer) sign(req *http.Request, now time.Time) error {
	payload := req.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = "UNSIGNED-PAYLOAD"
	}
	return s.signer.SignHTTP(req.Context(), s.creds, req, payload, "s3", s.region, now)
}
