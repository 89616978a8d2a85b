package caddydjango

import (
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("django_files", parseDjangoFilesDirective)
	// A terminal handler like reverse_proxy: matched reverse_proxy routes
	// (e.g. a websocket server) run first, then django_files takes the rest.
	httpcaddyfile.RegisterDirectiveOrder("django_files", httpcaddyfile.After, "reverse_proxy")
}

func parseDjangoFilesDirective(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	df := new(DjangoFiles)
	if err := df.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	return df, nil
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	django_files [<matcher>] {
//		static <url_prefix> [<dir>] | off {
//			max_age <duration>
//			immutable_max_age <duration>
//			compress [gzip] [zstd]
//			follow_symlinks
//			alias <url_path> <file>
//			also <dir...>
//			finders [on | off]
//		}
//		media <url_prefix> [<dir> | s3://<bucket>[/<prefix>]] | off {
//			max_age <duration>
//			hide <path...>
//			disposition attachment | auto
//			endpoint <url>
//			region <region>
//			addressing_style path | virtual | auto
//			access_key <key id>
//			secret_key <secret>
//			session_token <token>
//			timeout <duration>
//		}
//		root_files <dir> | off {
//			max_age <duration>
//		}
//		protected [<dir> | s3://<bucket>[/<prefix>]] {
//			accel_prefix <url_prefix>
//			endpoint, region, ... (as media's, with s3://)
//			remote <host...> {
//				prefix <url_prefix...>
//				max_size <size>
//				timeout <duration>
//			}
//		}
//		upstream <address>
//		app <app server name>
//		max_body <size> | unlimited
//		request_buffer <size> | off
//		buffer_dir <dir>
//		trusted_proxies <ranges...> | private_ranges
//		wait_timeout <duration>
//		upstream_keepalive <duration>
//		health <path>
//		request_start off
//		timeout <duration>
//		on_timeout log|recycle
//	}
//
// `static` and `media` may also be given without arguments, to set only
// block options. `compress` without arguments means gzip and zstd.
func (h *DjangoFiles) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.Errf("django_files takes no arguments, got %q; put options in a { } block", d.Val())
	}
	seen := map[string]bool{}
	for d.NextBlock(0) {
		opt := d.Val()
		if seen[opt] && opt != "trusted_proxies" {
			return d.Errf("%s is set twice", opt)
		}
		seen[opt] = true
		var err error
		switch opt {
		case "static":
			h.Static = new(StaticFiles)
			err = h.Static.UnmarshalCaddyfile(d.NewFromNextSegment())
		case "media":
			h.Media = new(MediaFiles)
			err = h.Media.UnmarshalCaddyfile(d.NewFromNextSegment())
		case "root_files":
			h.RootFiles = new(RootFiles)
			err = h.RootFiles.UnmarshalCaddyfile(d.NewFromNextSegment())
		case "protected":
			h.Protected = new(ProtectedFiles)
			err = h.Protected.UnmarshalCaddyfile(d.NewFromNextSegment())
		case "upstream":
			err = oneArg(d, &h.Upstream)
		case "app":
			err = oneArg(d, &h.App)
		case "max_body":
			err = sizeOrOffArg(d, &h.MaxBody, "unlimited")
		case "request_buffer":
			err = sizeOrOffArg(d, &h.RequestBuffer, "off")
		case "buffer_dir":
			err = oneArg(d, &h.BufferDir)
		case "trusted_proxies":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.Errf("trusted_proxies needs IP ranges (CIDR) or private_ranges")
			}
			for _, a := range args {
				if a == "private_ranges" {
					h.TrustedProxies = append(h.TrustedProxies, caddyhttp.PrivateRangesCIDR()...)
					continue
				}
				h.TrustedProxies = append(h.TrustedProxies, a)
			}
		case "wait_timeout":
			err = durationArg(d, &h.WaitTimeout, minPositive)
		case "upstream_keepalive":
			err = durationArg(d, &h.UpstreamKeepAlive, minPositive)
		case "health":
			if err = oneArg(d, &h.Health); err == nil && !strings.HasPrefix(h.Health, "/") {
				err = d.Errf("health: %q is not a URL path (it must start with /)", h.Health)
			}
		case "request_start":
			var v string
			if err = oneArg(d, &v); err == nil && v != "off" {
				err = d.Errf("request_start takes only `off`, got %q", v)
			}
			h.DisableRequestStart = true
		case "timeout":
			err = durationArg(d, &h.Timeout, minPositive)
		case "on_timeout":
			if err = oneArg(d, &h.OnTimeout); err == nil && h.OnTimeout != "log" && h.OnTimeout != "recycle" {
				err = d.Errf("on_timeout: %q: want log or recycle", h.OnTimeout)
			}
		default:
			return d.Errf("unknown django_files option %q (expected static, media, root_files, protected, upstream, max_body, request_buffer, buffer_dir, trusted_proxies, wait_timeout, upstream_keepalive, health, request_start, timeout or on_timeout)", opt)
		}
		if err != nil {
			return err
		}
	}
	if h.OnTimeout != "" && h.Timeout == 0 {
		return d.Errf("on_timeout %s needs a timeout, e.g. timeout 30s", h.OnTimeout)
	}
	return nil
}

// UnmarshalCaddyfile sets up static file serving from a `static` segment
// of django_files:
//
//	static <url_prefix> [<dir>] | off {
//		max_age <duration>
//		immutable_max_age <duration>
//		compress [gzip] [zstd]
//		follow_symlinks
//		cache_size <size> | off
//		cache_file_size <size>
//		alias <url_path> <file>
//		also <dir...>
//		finders [on | off]
//	}
func (s *StaticFiles) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "static"
	return unmarshalServedDir(d, &s.URL, &s.Root, &s.Disabled, func(opt string) error {
		switch opt {
		case "max_age":
			return durationArg(d, &s.MaxAge, minPositive)
		case "immutable_max_age":
			return durationArg(d, &s.ImmutableMaxAge, minPositive)
		case "compress":
			encs := d.RemainingArgs()
			if len(encs) == 0 {
				encs = []string{"gzip", "zstd"}
			}
			if _, err := compressEncodings(encs); err != nil {
				return d.Err(err.Error())
			}
			s.Compress = encs
		case "follow_symlinks":
			if d.NextArg() {
				return d.Errf("follow_symlinks takes no arguments, got %q", d.Val())
			}
			s.FollowSymlinks = true
		case "cache_size":
			return sizeOrOffArg(d, &s.CacheSize, "off")
		case "cache_file_size":
			return sizeArg(d, &s.CacheFileSize)
		case "alias", "also":
			return s.unmarshalStaticExtra(d)
		case "finders":
			return toggleArg(d, &s.Finders)
		default:
			return d.Errf("unknown static option %q (expected max_age, immutable_max_age, compress, follow_symlinks, cache_size, cache_file_size, alias, also or finders)", opt)
		}
		return nil
	})
}

// UnmarshalCaddyfile sets up serving of uploads from a `media` segment of
// django_files:
//
//	media <url_prefix> [<dir> | s3://<bucket>[/<prefix>]] | off {
//		max_age <duration>
//		hide <path...>
//		disposition attachment | auto
//		# with s3://, see unmarshalBucketOption
//		endpoint <url>
//		region <region>
//		...
//	}
func (m *MediaFiles) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "media"
	err := unmarshalServedDir(d, &m.URL, &m.Root, &m.Disabled, func(opt string) error {
		if err := m.rootToBucket(d); err != nil {
			return err
		}
		if ok, err := unmarshalBucketOption(d, m.Bucket, opt, "media /media/ s3://bucket/prefix"); ok || err != nil {
			return err
		}
		switch opt {
		case "max_age":
			return durationArg(d, &m.MaxAge, minPositive)
		case "hide":
			return hideArgs(d, &m.Hide)
		case "disposition":
			if err := oneArg(d, &m.Disposition); err != nil {
				return err
			}
			if _, err := parseDisposition(m.Disposition); err != nil {
				return d.Err(err.Error())
			}
			return nil
		default:
			return d.Errf("unknown media option %q (expected max_age, hide, disposition, or with s3://: %s)", opt, strings.Join(bucketOptions, ", "))
		}
	})
	if err != nil {
		return err
	}
	return m.rootToBucket(d)
}

// rootToBucket moves an `s3://bucket/prefix` root into Bucket.
func (m *MediaFiles) rootToBucket(d *caddyfile.Dispenser) error {
	if m.Bucket != nil {
		return nil
	}
	b, ok, err := parseBucketURL(m.Root)
	if err != nil {
		return d.Errf("media: %v", err)
	}
	if ok {
		m.Bucket, m.Root = b, ""
	}
	return nil
}

// bucketOptions are the options of a bucket (after an s3:// URL).
var bucketOptions = []string{"endpoint", "region", "addressing_style", "access_key", "secret_key", "session_token", "timeout",
	"cache_dir", "cache_size", "cache_ttl"}

// unmarshalBucketOption reads opt into b when it is a bucket option
// (handled reports that); b is nil when no s3:// URL was given, which
// makes a bucket option an error saying so (example shows the form).
//
//	endpoint <url>
//	region <region>
//	addressing_style path | virtual | auto
//	access_key <key id>
//	secret_key <secret>
//	session_token <token>
//	timeout <duration>
//	cache_dir <dir>
//	cache_size <size>
//	cache_ttl <duration>
func unmarshalBucketOption(d *caddyfile.Dispenser, b *BucketConfig, opt, example string) (handled bool, err error) {
	if !slices.Contains(bucketOptions, opt) {
		return false, nil
	}
	if b == nil {
		return true, d.Errf("%s is an option of a bucket: write the bucket as an s3:// URL first (%s { %s … })", opt, example, opt)
	}
	switch opt {
	case "endpoint":
		err = oneArg(d, &b.Endpoint)
	case "region":
		err = oneArg(d, &b.Region)
	case "addressing_style":
		err = oneArg(d, &b.AddressingStyle)
	case "access_key":
		err = oneArg(d, &b.AccessKey)
	case "secret_key":
		err = oneArg(d, &b.SecretKey)
	case "session_token":
		err = oneArg(d, &b.SessionToken)
	case "timeout":
		err = durationArg(d, &b.Timeout, minPositive)
	case "cache_dir":
		err = oneArg(d, &b.CacheDir)
	case "cache_size":
		err = sizeArg(d, &b.CacheSize)
	case "cache_ttl":
		err = durationArg(d, &b.CacheTTL, minPositive)
	}
	if err == nil {
		if cerr := b.check(); cerr != nil {
			err = d.Errf("%s: %v", opt, cerr)
		}
	}
	return true, err
}

// UnmarshalCaddyfile sets up protected downloads from a `protected`
// segment of django_files:
//
//	protected [<dir> | s3://<bucket>[/<prefix>]] {
//		accel_prefix <url_prefix>
//		# with s3://, the options of unmarshalBucketOption
//		remote <host...> { ... } # see RemoteFiles.unmarshalCaddyfile
//	}
func (p *ProtectedFiles) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "protected"
	line := d.Line()
	if d.NextArg() {
		p.Root = d.Val()
		if d.NextArg() {
			return d.Errf("protected takes one directory, got extra %q", d.Val())
		}
	}
	if b, ok, err := parseBucketURL(p.Root); err != nil {
		return d.Errf("protected: %v", err)
	} else if ok {
		p.Bucket, p.Root = b, ""
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if ok, err := unmarshalBucketOption(d, p.Bucket, d.Val(), "protected s3://bucket/private"); ok || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		switch d.Val() {
		case "accel_prefix":
			if err := oneArg(d, &p.AccelPrefix); err != nil {
				return err
			}
			if _, err := normalizePrefix(p.AccelPrefix, ""); err != nil {
				return d.Errf("accel_prefix: %v", err)
			}
		case "remote":
			if p.Remote != nil {
				return d.Errf("remote is set twice; list every host on one line")
			}
			p.Remote = new(RemoteFiles)
			if err := p.Remote.unmarshalCaddyfile(d); err != nil {
				return err
			}
		default:
			return d.Errf("unknown protected option %q (expected accel_prefix, remote, or with s3://: %s)", d.Val(), strings.Join(bucketOptions, ", "))
		}
	}
	if p.Root == "" && p.Bucket == nil && p.Remote == nil {
		return d.Errf("protected needs the directory of the protected files, an s3://bucket/prefix or a remote block (protected at line %d)", line)
	}
	return nil
}

// unmarshalCaddyfile reads a `remote` line of a protected block:
//
//	remote <host...> {
//		prefix <url_prefix...>
//		max_size <size>
//		timeout <duration>
//	}
func (rf *RemoteFiles) unmarshalCaddyfile(d *caddyfile.Dispenser) error {
	rf.Hosts = d.RemainingArgs()
	if len(rf.Hosts) == 0 {
		return d.Errf("remote needs the hosts Caddy may fetch from (e.g. remote *.s3.eu-west-1.amazonaws.com)")
	}
	for _, h := range rf.Hosts {
		if _, err := parseHostPattern(h); err != nil {
			return d.Err(err.Error())
		}
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "prefix":
			prefixes := d.RemainingArgs()
			if len(prefixes) == 0 {
				return d.Errf("prefix needs URL prefixes (e.g. prefix /internal/s3/)")
			}
			for _, pr := range prefixes {
				if _, err := normalizePrefix(pr, ""); err != nil {
					return d.Errf("prefix: %v", err)
				}
			}
			rf.Prefixes = append(rf.Prefixes, prefixes...)
		case "max_size":
			if err := sizeArg(d, &rf.MaxSize); err != nil {
				return err
			}
		case "timeout":
			if err := durationArg(d, &rf.Timeout, minPositive); err != nil {
				return err
			}
		default:
			return d.Errf("unknown remote option %q (expected prefix, max_size or timeout)", d.Val())
		}
	}
	return nil
}

// unmarshalServedDir reads the rest of a `static` or `media` segment:
// `<url_prefix> [<dir>]`, `off`, or nothing, then its block, each option
// of which goes to option (a block after `off` is an error).
func unmarshalServedDir(d *caddyfile.Dispenser, prefix, dir *string, disabled *bool, option func(opt string) error) error {
	name := d.Val()
	args := d.RemainingArgs()
	switch {
	case len(args) == 1 && args[0] == "off":
		*disabled = true
	case len(args) > 2:
		return d.Errf("%s takes a URL prefix and a directory, got %d arguments", name, len(args))
	case len(args) >= 1:
		p, err := normalizePrefix(args[0], "")
		if err != nil {
			return d.Errf("%s: %v", name, err)
		}
		*prefix = p
		if len(args) == 2 {
			*dir = args[1]
		}
	}
	for d.NextBlock(0) {
		if *disabled {
			return d.Errf("%s is off; remove the block or the `off`", name)
		}
		if err := option(d.Val()); err != nil {
			return err
		}
	}
	return nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*DjangoFiles)(nil)
	_ caddyfile.Unmarshaler = (*StaticFiles)(nil)
	_ caddyfile.Unmarshaler = (*MediaFiles)(nil)
	_ caddyfile.Unmarshaler = (*ProtectedFiles)(nil)
	_ caddyfile.Unmarshaler = (*RootFiles)(nil)
)

// UnmarshalCaddyfile sets up files served at the site root from a
// `root_files` segment of django_files:
//
//	root_files <dir> | off {
//		max_age <duration>
//	}
func (rf *RootFiles) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "root_files"
	args := d.RemainingArgs()
	switch {
	case len(args) > 1:
		return d.Errf("root_files takes one directory, got %d arguments", len(args))
	case len(args) == 1 && args[0] == "off":
		rf.Disabled = true
	case len(args) == 1:
		rf.Root = args[0]
	}
	for d.NextBlock(0) {
		switch {
		case rf.Disabled:
			return d.Errf("root_files is off; remove the block or the `off`")
		case d.Val() == "max_age":
			if err := durationArg(d, &rf.MaxAge, minPositive); err != nil {
				return err
			}
		default:
			return d.Errf("unknown root_files option %q (expected max_age)", d.Val())
		}
	}
	return nil
}

// hideArgs appends the paths of a media `hide` line to dst.
func hideArgs(d *caddyfile.Dispenser, dst *[]string) error {
	paths := d.RemainingArgs()
	if len(paths) == 0 {
		return d.Errf("hide needs paths relative to the media root (e.g. hide invoices cachedfiles)")
	}
	for _, p := range paths {
		if _, err := cleanHidePath(p); err != nil {
			return d.Err(err.Error())
		}
	}
	*dst = append(*dst, paths...)
	return nil
}
