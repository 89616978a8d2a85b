package caddydjango

import (
	"time"

	"github.com/caddyserver/caddy/v2"
)

// streamsOutliveReloads is django_files' reverse_proxy stream_close_delay:
// websockets and other upgraded streams stay open when a config reload
// unloads the handler that proxied them (Caddy closes them at once
// otherwise). They end when the client or the app server closes them; an
// app server stopped or replaced by a reload (with its stop_timeout) closes
// its streams as it exits.
const streamsOutliveReloads = caddy.Duration(100 * 365 * 24 * time.Hour)
