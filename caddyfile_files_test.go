package caddydjango

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// Tests of the django_files Caddyfile directive: what it adapts to, where
// it is ordered, and errors that name the line.

// adaptFiles adapts a Caddyfile and returns the django_files handler's JSON.
func adaptFiles(t *testing.T, caddyfile string) (string, error) {
	t.Helper()
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return "", err
	}
	var found json.RawMessage
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["handler"] == "django_files" {
				found, _ = json.Marshal(x)
				return
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var cfg any
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	walk(cfg)
	if found == nil {
		t.Fatalf("no django_files handler in %s", out)
	}
	return string(found), nil
}

func TestHandlerCaddyfileAdapts(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"bare", "example.com {\n\tdjango_files\n}", `{"handler":"django_files"}`},
		{
			"the contract example",
			`example.com {
	django_files {
		static /static/ /app/static_root
		media /media/ /app/media_root
		protected /app/private_files
		upstream 127.0.0.1:8000
	}
}`,
			`{"handler":"django_files","media":{"root":"/app/media_root","url":"/media/"},"protected":{"root":"/app/private_files"},"static":{"root":"/app/static_root","url":"/static/"},"upstream":"127.0.0.1:8000"}`,
		},
		{
			"every option",
			`:8080 {
	django_files {
		static /assets {
			max_age 5m
			immutable_max_age 30d
			compress gzip
			follow_symlinks
		}
		media /uploads/ uploads {
			max_age 1h
		}
		protected private {
			accel_prefix /internal
		}
		upstream unix//run/app.sock
		max_body 10MB
		request_buffer 64KiB
		buffer_dir /var/tmp
		trusted_proxies 10.0.0.0/8 192.168.1.1
		wait_timeout 1m
		upstream_keepalive 1s
		health /healthz
		request_start off
	}
}`,
			`{"buffer_dir":"/var/tmp","disable_request_start":true,"handler":"django_files","health":"/healthz","max_body":10000000,"media":{"max_age":3600000000000,"root":"uploads","url":"/uploads/"},"protected":{"accel_prefix":"/internal","root":"private"},"request_buffer":65536,"static":{"compress":["gzip"],"follow_symlinks":true,"immutable_max_age":2592000000000000,"max_age":300000000000,"url":"/assets/"},"trusted_proxies":["10.0.0.0/8","192.168.1.1"],"upstream":"unix//run/app.sock","upstream_keepalive":1000000000,"wait_timeout":60000000000}`,
		},
		{"compress defaults to gzip and zstd", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tcompress\n\t\t}\n\t}\n}", `{"handler":"django_files","static":{"compress":["gzip","zstd"]}}`},
		{"off", ":80 {\n\tdjango_files {\n\t\tstatic off\n\t\tmedia off\n\t}\n}", `{"handler":"django_files","media":{"disabled":true},"static":{"disabled":true}}`},
		{"static cache sizes", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tcache_size 64MiB\n\t\t\tcache_file_size 1MB\n\t\t}\n\t}\n}", `{"handler":"django_files","static":{"cache_file_size":1000000,"cache_size":67108864}}`},
		{"streamed and unlimited", ":80 {\n\tdjango_files {\n\t\tmax_body unlimited\n\t\trequest_buffer off\n\t}\n}", `{"handler":"django_files","max_body":-1,"request_buffer":-1}`},
		{"static cache off", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tcache_size off\n\t\t}\n\t}\n}", `{"handler":"django_files","static":{"cache_size":-1}}`},
		{"private ranges", ":80 {\n\tdjango_files {\n\t\ttrusted_proxies private_ranges\n\t}\n}", `{"handler":"django_files","trusted_proxies":["192.168.0.0/16","172.16.0.0/12","10.0.0.0/8","127.0.0.1/8","fd00::/8","::1"]}`},
		{"with a matcher", ":80 {\n\tdjango_files /app/*\n}", `{"handler":"django_files"}`},
		{"hide and disposition", ":80 {\n\tdjango_files {\n\t\tmedia {\n\t\t\thide invoices cachedfiles\n\t\t\thide private/\n\t\t\tdisposition attachment\n\t\t}\n\t}\n}",
			`{"handler":"django_files","media":{"disposition":"attachment","hide":["invoices","cachedfiles","private/"]}}`},
		{"root_files", ":80 {\n\tdjango_files {\n\t\troot_files public\n\t}\n}", `{"handler":"django_files","root_files":{"root":"public"}}`},
		{"root_files max_age", ":80 {\n\tdjango_files {\n\t\troot_files /app/public {\n\t\t\tmax_age 5m\n\t\t}\n\t}\n}", `{"handler":"django_files","root_files":{"max_age":300000000000,"root":"/app/public"}}`},
		{"root_files off", ":80 {\n\tdjango_files {\n\t\troot_files off\n\t}\n}", `{"handler":"django_files","root_files":{"disabled":true}}`},
		{"media from a bucket", ":80 {\n\tdjango_files {\n\t\tmedia /media/ s3://uploads/site/media {\n\t\t\tendpoint http://127.0.0.1:9000\n\t\t\tregion eu-west-3\n\t\t\taddressing_style path\n\t\t\taccess_key {env.KEY_ID}\n\t\t\tsecret_key {env.SECRET}\n\t\t\tsession_token {env.TOKEN}\n\t\t\ttimeout 5s\n\t\t\thide invoices\n\t\t}\n\t}\n}",
			`{"handler":"django_files","media":{"bucket":{"access_key":"{env.KEY_ID}","addressing_style":"path","endpoint":"http://127.0.0.1:9000","name":"uploads","prefix":"site/media","region":"eu-west-3","secret_key":"{env.SECRET}","session_token":"{env.TOKEN}","timeout":5000000000},"hide":["invoices"],"url":"/media/"}}`},
		{"protected from a bucket", ":80 {\n\tdjango_files {\n\t\tprotected s3://files/private {\n\t\t\taccel_prefix /internal/\n\t\t\tendpoint https://s3.example.com\n\t\t\tsecret_key {env.SECRET}\n\t\t\taccess_key {env.KEY_ID}\n\t\t}\n\t}\n}",
			`{"handler":"django_files","protected":{"accel_prefix":"/internal/","bucket":{"access_key":"{env.KEY_ID}","endpoint":"https://s3.example.com","name":"files","prefix":"private","secret_key":"{env.SECRET}"}}}`},
		{"remote files", ":80 {\n\tdjango_files {\n\t\tprotected {\n\t\t\tremote *.s3.eu-west-1.amazonaws.com http://minio:9000 {\n\t\t\t\tprefix /internal/s3/ /file_download/\n\t\t\t\tmax_size 2GiB\n\t\t\t\ttimeout 30s\n\t\t\t}\n\t\t}\n\t}\n}",
			`{"handler":"django_files","protected":{"remote":{"hosts":["*.s3.eu-west-1.amazonaws.com","http://minio:9000"],"max_size":2147483648,"prefixes":["/internal/s3/","/file_download/"],"timeout":30000000000}}}`},
		{"remote files beside a directory", ":80 {\n\tdjango_files {\n\t\tprotected /app/private {\n\t\t\tremote storage.googleapis.com\n\t\t}\n\t}\n}",
			`{"handler":"django_files","protected":{"remote":{"hosts":["storage.googleapis.com"]},"root":"/app/private"}}`},
		{"media from a bucket with a cache", ":80 {\n\tdjango_files {\n\t\tmedia /media/ s3://uploads {\n\t\t\tcache_dir /var/cache/media\n\t\t\tcache_size 1GiB\n\t\t\tcache_ttl 5m\n\t\t}\n\t}\n}",
			`{"handler":"django_files","media":{"bucket":{"cache_dir":"/var/cache/media","cache_size":1073741824,"cache_ttl":300000000000,"name":"uploads"},"url":"/media/"}}`},
		{"media from a bucket, no options", ":80 {\n\tdjango_files {\n\t\tmedia /media/ s3://uploads\n\t}\n}",
			`{"handler":"django_files","media":{"bucket":{"name":"uploads"},"url":"/media/"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := adaptFiles(t, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestHandlerCaddyfileNeedsNoOrder: django_files is in the standard
// directive order, after a matched reverse_proxy and before file_server.
func TestHandlerCaddyfileNeedsNoOrder(t *testing.T) {
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(":80 {\n\tfile_server /robots.txt\n\tdjango_files\n\treverse_proxy /ws/* 127.0.0.1:9000\n}"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	rp, df, fsrv := strings.Index(s, `"reverse_proxy"`), strings.Index(s, `"django_files"`), strings.Index(s, `"file_server"`)
	if rp < 0 || df < 0 || fsrv < 0 || !(rp < df && df < fsrv) {
		t.Fatalf("want reverse_proxy < django_files < file_server, got %d %d %d in %s", rp, df, fsrv, s)
	}
}

func TestHandlerCaddyfileErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"unknown option", ":80 {\n\tdjango_files {\n\t\tstatik /s/ /d\n\t}\n}", `Caddyfile:3 - Error during parsing: unknown django_files option "statik"`},
		{"argument on the directive", ":80 {\n\tdjango_files /app/* extra\n}", `Caddyfile:2 - Error during parsing: django_files takes no arguments, got "extra"`},
		{"unknown static option", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tmaxage 1m\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: unknown static option "maxage"`},
		{"unknown media option", ":80 {\n\tdjango_files {\n\t\tmedia /m/ /d {\n\t\t\tbrowse\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: unknown media option "browse"`},
		{"unknown protected option", ":80 {\n\tdjango_files {\n\t\tprotected /p {\n\t\t\tprefix /x/\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: unknown protected option "prefix"`},
		{"too many static args", ":80 {\n\tdjango_files {\n\t\tstatic /s/ /a /b\n\t}\n}", `Caddyfile:3 - Error during parsing: static takes a URL prefix and a directory, got 3 arguments`},
		{"relative prefix", ":80 {\n\tdjango_files {\n\t\tmedia media/ /d\n\t}\n}", `Caddyfile:3 - Error during parsing: media: URL prefix "media/" must start with /`},
		{"root prefix", ":80 {\n\tdjango_files {\n\t\tstatic / /d\n\t}\n}", `Caddyfile:3 - Error during parsing: static: URL prefix must not be /`},
		{"protected without dir", ":80 {\n\tdjango_files {\n\t\tprotected\n\t}\n}", `Caddyfile:3 - Error during parsing: protected needs the directory`},
		{"protected two dirs", ":80 {\n\tdjango_files {\n\t\tprotected /a /b\n\t}\n}", `Caddyfile:3 - Error during parsing: protected takes one directory, got extra "/b"`},
		{"upstream missing", ":80 {\n\tdjango_files {\n\t\tupstream\n\t}\n}", `Caddyfile:3 - Error during parsing: upstream needs a value`},
		{"two upstreams", ":80 {\n\tdjango_files {\n\t\tupstream a:1 b:2\n\t}\n}", `Caddyfile:3 - Error during parsing: upstream takes one value, got extra "b:2"`},
		{"bad size", ":80 {\n\tdjango_files {\n\t\tmax_body lots\n\t}\n}", `Caddyfile:3 - Error during parsing: max_body: "lots" is not a size`},
		{"zero size", ":80 {\n\tdjango_files {\n\t\trequest_buffer 0\n\t}\n}", `Caddyfile:3 - Error during parsing: request_buffer: "0" is not a size`},
		{"negative size", ":80 {\n\tdjango_files {\n\t\tmax_body -5MB\n\t}\n}", `Caddyfile:3 - Error during parsing: max_body: "-5MB" is not a size`},
		{"max_body off", ":80 {\n\tdjango_files {\n\t\tmax_body off\n\t}\n}", `Caddyfile:3 - Error during parsing: max_body: "off" is not a size (examples: 512KB, 10MB, 1GiB) or unlimited`},
		{"request_buffer unlimited", ":80 {\n\tdjango_files {\n\t\trequest_buffer unlimited\n\t}\n}", `Caddyfile:3 - Error during parsing: request_buffer: "unlimited" is not a size (examples: 512KB, 10MB, 1GiB) or off`},
		{"bad duration", ":80 {\n\tdjango_files {\n\t\twait_timeout soon\n\t}\n}", `Caddyfile:3 - Error during parsing: wait_timeout: "soon" is not a duration`},
		{"negative duration", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tmax_age -1m\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: max_age: "-1m" must be positive`},
		{"brotli", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tcompress br\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: compress: brotli cannot be created`},
		{"unknown encoding", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tcompress deflate\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: compress: unknown encoding "deflate"`},
		{"off with a block", ":80 {\n\tdjango_files {\n\t\tstatic off {\n\t\t\tmax_age 1m\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: static is off`},
		{"twice", ":80 {\n\tdjango_files {\n\t\tupstream a:1\n\t\tupstream b:2\n\t}\n}", `Caddyfile:4 - Error during parsing: upstream is set twice`},
		{"trusted_proxies empty", ":80 {\n\tdjango_files {\n\t\ttrusted_proxies\n\t}\n}", `Caddyfile:3 - Error during parsing: trusted_proxies needs IP ranges`},
		{"follow_symlinks with a value", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tfollow_symlinks yes\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: follow_symlinks takes no arguments, got "yes"`},
		{"bad cache size", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tcache_size none\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: cache_size: "none" is not a size`},
		{"cache size without a value", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tcache_file_size\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: cache_file_size needs a value`},
		{"bad keepalive", ":80 {\n\tdjango_files {\n\t\tupstream_keepalive forever\n\t}\n}", `Caddyfile:3 - Error during parsing: upstream_keepalive: "forever" is not a duration`},
		{"bad accel prefix", ":80 {\n\tdjango_files {\n\t\tprotected /p {\n\t\t\taccel_prefix internal\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: accel_prefix: URL prefix "internal" must start with /`},
		{"request_start on", ":80 {\n\tdjango_files {\n\t\trequest_start on\n\t}\n}", `Caddyfile:3 - Error during parsing: request_start takes only ` + "`off`" + `, got "on"`},
		{"health not a path", ":80 {\n\tdjango_files {\n\t\thealth healthz\n\t}\n}", `Caddyfile:3 - Error during parsing: health: "healthz" is not a URL path`},
		{"hide without paths", ":80 {\n\tdjango_files {\n\t\tmedia {\n\t\t\thide\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: hide needs paths relative to the media root`},
		{"hide absolute", ":80 {\n\tdjango_files {\n\t\tmedia {\n\t\t\thide /app/media/invoices\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: hide "/app/media/invoices": write the path relative to the media root (e.g. invoices), not absolute`},
		{"hide dotdot", ":80 {\n\tdjango_files {\n\t\tmedia {\n\t\t\thide ../private\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: hide "../private": a path inside the media root has no empty, . or .. segments`},
		{"disposition inline", ":80 {\n\tdjango_files {\n\t\tmedia {\n\t\t\tdisposition inline\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: disposition "inline": want attachment or auto`},
		{"disposition twice", ":80 {\n\tdjango_files {\n\t\tmedia {\n\t\t\tdisposition attachment auto\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: disposition takes one value, got extra "auto"`},
		{"root_files two dirs", ":80 {\n\tdjango_files {\n\t\troot_files /a /b\n\t}\n}", `Caddyfile:3 - Error during parsing: root_files takes one directory, got 2 arguments`},
		{"root_files unknown option", ":80 {\n\tdjango_files {\n\t\troot_files /a {\n\t\t\tindex index.html\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: unknown root_files option "index" (expected max_age)`},
		{"root_files off with a block", ":80 {\n\tdjango_files {\n\t\troot_files off {\n\t\t\tmax_age 1m\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: root_files is off`},
		{"bucket option without a bucket", ":80 {\n\tdjango_files {\n\t\tmedia /m/ /d {\n\t\t\tendpoint http://x\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: endpoint is an option of a bucket: write the bucket as an s3:// URL first (media /media/ s3://bucket/prefix { endpoint … })`},
		{"bucket without a name", ":80 {\n\tdjango_files {\n\t\tmedia /m/ s3:///media\n\t}\n}", `Caddyfile:3 - Error during parsing: media: s3:///media: the bucket's name is missing (s3://bucket/prefix)`},
		{"bucket prefix with dotdot", ":80 {\n\tdjango_files {\n\t\tmedia /m/ s3://bkt/a/../c\n\t}\n}", `Caddyfile:3 - Error during parsing: media: s3://bkt/a/../c: key prefix "a/../c" must be a plain path`},
		{"bad bucket name", ":80 {\n\tdjango_files {\n\t\tprotected s3://My_Bucket!/private\n\t}\n}", `Caddyfile:3 - Error during parsing: protected: s3://My_Bucket!/private: bucket name "My_Bucket!": Bucket name contains invalid characters`},
		{"bucket option on a protected directory", ":80 {\n\tdjango_files {\n\t\tprotected /p {\n\t\t\tregion eu-west-1\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: region is an option of a bucket: write the bucket as an s3:// URL first (protected s3://bucket/private { region … })`},
		{"remote without hosts", ":80 {\n\tdjango_files {\n\t\tprotected {\n\t\t\tremote\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: remote needs the hosts Caddy may fetch from`},
		{"remote host with a path", ":80 {\n\tdjango_files {\n\t\tprotected {\n\t\t\tremote https://s3.example.com/bucket\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: remote host "https://s3.example.com/bucket": want a host name`},
		{"remote wildcard in the middle", ":80 {\n\tdjango_files {\n\t\tprotected {\n\t\t\tremote s3.*.amazonaws.com\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: remote host "s3.*.amazonaws.com": not a host name or IP address`},
		{"unknown remote option", ":80 {\n\tdjango_files {\n\t\tprotected {\n\t\t\tremote a.example.com {\n\t\t\t\tfollow_redirects\n\t\t\t}\n\t\t}\n\t}\n}", `Caddyfile:5 - Error during parsing: unknown remote option "follow_redirects" (expected prefix, max_size or timeout)`},
		{"bad addressing style", ":80 {\n\tdjango_files {\n\t\tmedia /m/ s3://bkt {\n\t\t\taddressing_style dns\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: addressing_style: addressing_style "dns": want path, virtual or auto`},
		{"bad endpoint", ":80 {\n\tdjango_files {\n\t\tmedia /m/ s3://bkt {\n\t\t\tendpoint s3.example.com\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: endpoint: endpoint "s3.example.com": want an http:// or https:// URL`},
		{"cache without a bucket", ":80 {\n\tdjango_files {\n\t\tmedia /m/ /d {\n\t\t\tcache_dir /tmp/c\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: cache_dir is an option of a bucket`},
		{"bad cache size", ":80 {\n\tdjango_files {\n\t\tmedia /m/ s3://bkt {\n\t\t\tcache_size lots\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: cache_size: "lots" is not a size`},
		{"bucket timeout", ":80 {\n\tdjango_files {\n\t\tmedia /m/ s3://bkt {\n\t\t\ttimeout 0s\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: timeout: "0s" must be positive`},
		{"root_files bad max_age", ":80 {\n\tdjango_files {\n\t\troot_files /a {\n\t\t\tmax_age soon\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: max_age: "soon" is not a duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptFiles(t, tc.in)
			wantAdaptError(t, err, tc.want)
		})
	}
}
