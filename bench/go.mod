module github.com/caddy-django/caddy-django/bench

go 1.26.0

require github.com/caddy-django/caddy-django v0.0.0

require (
	github.com/aws/aws-sdk-go-v2 v1.47.0 // indirect
	github.com/aws/smithy-go v1.28.1 // indirect
	github.com/klauspost/cpuid/v2 v2.4.0 // indirect
	github.com/minio/md5-simd v1.1.2 // indirect
	github.com/minio/minio-go/v7 v7.4.1 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
)

replace github.com/caddy-django/caddy-django => ../
