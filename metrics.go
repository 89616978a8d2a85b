package caddydjango

import (
	"errors"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Prometheus metrics, in the registry Caddy gives the config (scraped at
// the admin endpoint's /metrics with Caddy's own).
//
// Caddy gives every config load a new registry, so registering here never
// collides with the previous config's metrics; within one config, several
// django_files handlers register the same request metrics, and
// AlreadyRegisteredError is expected. The request metrics are package
// variables, registered in each new registry, so their counts survive
// config reloads. The process metrics are read from the processes at
// scrape time (processCollector): the processes themselves survive reloads
// (registry.go), and so do their restart counts.

const metricsNamespace = "caddy_django"

// requestMetrics are the django_files request metrics.
var requestMetrics = struct {
	waiting  prometheus.Gauge
	waited   prometheus.Histogram
	inFlight *prometheus.GaugeVec
	timeouts *prometheus.CounterVec
}{
	waiting: prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: metricsNamespace,
		Name:      "requests_waiting",
		Help:      "Requests django_files holds until the app server serves (it is starting or restarting).",
	}),
	waited: prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: metricsNamespace,
		Name:      "request_wait_seconds",
		Help:      "How long proxied requests waited for the app server to serve before they were sent (0 when it was RUNNING).",
		Buckets:   []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	}),
	inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: metricsNamespace,
		Name:      "upstream_requests_in_flight",
		Help:      "Requests django_files is proxying to the upstream (sent, response not finished).",
	}, []string{"upstream"}),
	timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metricsNamespace,
		Name:      "request_timeouts_total",
		Help:      "Proxied requests django_files answered 504 because the app server had not begun its answer within `timeout`, by app server (its name, or the upstream's address).",
	}, []string{"app_server"}),
}

// registerRequestMetrics adds the request metrics to the config's
// registry.
func registerRequestMetrics(ctx caddy.Context) error {
	return registerAll(ctx, requestMetrics.waiting, requestMetrics.waited, requestMetrics.inFlight, requestMetrics.timeouts)
}

// recycles counts recycles (recycle.go) by process and reason; package
// level, as processes outlive configs.
var recycles = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: metricsNamespace,
	Name:      "process_recycles_total",
	Help:      "Recycles of a process or one of its workers, by reason: memory (over max_memory) or timeout (it held a request django_files timed out, with on_timeout recycle).",
}, []string{"process", "reason"})

// recycleCounter counts process's recycles for reason.
func recycleCounter(process, reason string) prometheus.Counter {
	return recycles.WithLabelValues(process, reason)
}

// registerAll registers each collector in the config's registry, skipping
// those already registered there (none without a registry).
func registerAll(ctx caddy.Context, cs ...prometheus.Collector) error {
	reg := ctx.GetMetricsRegistry()
	if reg == nil {
		return nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return err
		}
	}
	return nil
}

// waitMetrics counts a request as waiting for the app server until the
// returned function is called, which records how long it waited.
func waitMetrics() (done func()) {
	start := time.Now()
	requestMetrics.waiting.Inc()
	return func() {
		requestMetrics.waiting.Dec()
		requestMetrics.waited.Observe(time.Since(start).Seconds())
	}
}

// waitedNothing records a request that found its app server serving.
func waitedNothing() { requestMetrics.waited.Observe(0) }

// inFlightGauge counts the requests in flight to upstream (a handler looks
// it up once, not per request).
func inFlightGauge(upstream string) prometheus.Gauge {
	return requestMetrics.inFlight.WithLabelValues(upstream)
}
