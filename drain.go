package caddydjango

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Draining on stop (`drain` in the django block). A rolling update starts
// the new container, waits for its health check, and sends SIGTERM to the
// old one, which is still in the load balancer's pool: the balancer must
// learn that it goes before it stops accepting connections.
//
// When Caddy is told to stop (SIGTERM, SIGINT, `caddy stop`, POST /stop),
// caddy.Exiting() turns true, then Caddy stops the config: it emits the
// "stopping" event (synchronously, before any app stops), then stops
// each app in no fixed order; the http app waits its shutdown_delay, then
// shuts its servers down (grace_period), and the django app's Cleanup
// stops the processes by priority. The drain is a handler of that event:
// it holds the stop back while every server still serves, new connections
// included, and the health endpoint and `status --check` say "draining"
// (they do from the moment Caddy is exiting, drain or not, and during the
// http app's shutdown_delay too, through {http.shutting_down}). A config
// reload stops the old config too, but Caddy is not exiting then: no
// drain.
//
// Caddy's SIGTERM handler waits for the whole stop and Caddy ignores a
// second SIGTERM meanwhile; a second SIGINT quits at once (Caddy's force
// quit). A second SIGTERM or SIGINT during the drain ends the drain: the
// graceful stop begins at once.

const (
	// defaultDrain is the drain when `drain` is not set and something
	// checks health: 5s fits the 10s Docker, Compose and Swarm give a
	// container to stop by default, with half of it left for the
	// graceful stop, and covers a balancer that checks every second or
	// two and needs two failures (HAProxy `inter 1s fall 2`, Caddy's
	// reverse_proxy with `health_interval 2s`) and the endpoint
	// propagation of Kubernetes (an endpoint is removed when the pod
	// starts terminating; kube-proxy and ingresses take a second or
	// two). Slower checks need a longer drain and stop timeout
	// (docs/deploy.md).
	defaultDrain = 5 * time.Second

	// watchedWithin: a health check answered this recently means a
	// balancer or orchestrator watches (the default intervals of Docker's
	// HEALTHCHECK, Kubernetes probes and Caddy's active health checks are
	// at most 30s). Nobody watching, nobody to tell: `caddy run` in a
	// terminal, or a plain `docker stop`, stops at once as before.
	watchedWithin = time.Minute
)

// drainState is the process's: health checks answered (any config's) and
// the drain under way.
var drainState struct {
	lastCheck atomic.Int64 // Unix ns of the last health answer
	ends      atomic.Int64 // Unix ns when the drain under way ends
}

var drainingGauge = prometheus.NewGauge(prometheus.GaugeOpts{
	Namespace: metricsNamespace,
	Name:      "draining",
	Help:      "1 from the moment Caddy is told to stop (its health endpoint answers 503 and it drains) until it exits.",
})

// noteHealthCheck records that a health check was answered (the health
// endpoint, `caddy django status --check`).
func noteHealthCheck() { drainState.lastCheck.Store(time.Now().UnixNano()) }

// stopping reports whether Caddy is stopping: told to exit (draining, then
// stopping gracefully), or, for a request, its server in the http app's
// shutdown_delay (its listener is about to close, e.g. a reload that
// removes it).
func stopping(r *http.Request) bool {
	if caddy.Exiting() {
		return true
	}
	if r == nil {
		return false
	}
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if repl == nil {
		return false
	}
	v, _ := repl.Get("http.shutting_down")
	down, _ := v.(bool)
	return down
}

// stoppingProblem is the health rule's word for a stopping Caddy.
const stoppingProblem = "draining: Caddy is stopping"

// provisionDrain checks Drain and subscribes the drain to the config's
// "stopping" event.
func (a *App) provisionDrain(ctx caddy.Context) error {
	if a.Drain != nil && *a.Drain < 0 {
		return fmt.Errorf("drain: %s must not be negative", time.Duration(*a.Drain))
	}
	if err := registerAll(ctx, drainingGauge); err != nil {
		return err
	}
	if _, err := ctx.AppIfConfigured("django"); err != nil {
		return nil // provisioned outside a loaded config (a test): no stop to drain
	}
	ev, err := ctx.App("events")
	if err != nil {
		return err
	}
	return ev.(*caddyevents.App).On("stopping", drainHandler{a})
}

// drainFor is the drain Caddy applies if told to stop at now, and why.
func (a *App) drainFor(now time.Time) (time.Duration, string) {
	if a.Drain != nil {
		return time.Duration(*a.Drain), "drain " + time.Duration(*a.Drain).String()
	}
	last := drainState.lastCheck.Load()
	if last == 0 || now.Sub(time.Unix(0, last)) > watchedWithin {
		return 0, fmt.Sprintf("default: no health check in the last %s", watchedWithin)
	}
	ago := now.Sub(time.Unix(0, last)).Round(time.Second)
	return defaultDrain, fmt.Sprintf("default while health is checked (last %s ago)", ago)
}

// drainLeft is the time left of the drain under way (0: none, or over).
func drainLeft(now time.Time) time.Duration {
	ends := drainState.ends.Load()
	if ends == 0 {
		return 0
	}
	return max(0, time.Unix(0, ends).Sub(now))
}

// drainHandler drains when Caddy stops the config because it exits.
type drainHandler struct{ app *App }

// Handle runs in the goroutine that stops Caddy, before any app stops.
func (h drainHandler) Handle(context.Context, caddy.Event) error {
	if caddy.Exiting() {
		h.app.drain()
	}
	return nil
}

// drain keeps Caddy as it is (serving, health "draining") for the drain,
// or until a second SIGTERM or SIGINT.
func (a *App) drain() {
	drainingGauge.Set(1)
	d, why := a.drainFor(time.Now())
	log := a.logger.Named("drain")
	if d <= 0 {
		log.Info("stopping without a drain", zap.String("why", why))
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(sig)
	drainState.ends.Store(time.Now().Add(d).UnixNano())
	log.Info("draining: requests are served, health answers 503 (draining), then Caddy stops gracefully",
		zap.Duration("drain", d), zap.String("why", why))
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		log.Info("drained; stopping gracefully")
	case s := <-sig:
		log.Warn("drain ended early by a second signal; stopping gracefully", zap.String("signal", s.String()))
	}
	drainState.ends.Store(time.Now().UnixNano())
}

// Interface guards
var _ caddyevents.Handler = drainHandler{}
