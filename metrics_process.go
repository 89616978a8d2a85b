package caddydjango

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// The process metrics: read from the django app's processes when
// Prometheus scrapes.

var (
	processUpDesc = prometheus.NewDesc(metricsNamespace+"_process_up",
		"Whether the process is RUNNING (1) or not (0).", []string{"process"}, nil)
	processStateDesc = prometheus.NewDesc(metricsNamespace+"_process_state",
		"The process's supervision state: 1 for the current state, 0 for the others.", []string{"process", "state"}, nil)
	processRestartsDesc = prometheus.NewDesc(metricsNamespace+"_process_restarts_total",
		"Restarts of the process: automatic ones (after an exit or a failed start) and through the admin API or a deploy.", []string{"process"}, nil)
	processStartDesc = prometheus.NewDesc(metricsNamespace+"_process_start_time_seconds",
		"When the process's current OS process started, in seconds since the Unix epoch (only while it has one).", []string{"process"}, nil)
	processMemoryDesc = prometheus.NewDesc(metricsNamespace+"_process_resident_memory_bytes",
		"Resident memory of the process and all its descendants (Gunicorn's master and workers), in bytes (Linux only).", []string{"process"}, nil)
	processHealthyDesc = prometheus.NewDesc(metricsNamespace+"_healthy",
		"Whether the health rule of `caddy django status --check` holds (1) or not (0, also while Caddy drains or stops).", nil, nil)
)

// provisionMetrics registers the process and request metrics in the
// config's registry.
func (a *App) provisionMetrics(ctx caddy.Context) error {
	if err := registerAll(ctx, processCollector{statuses: a.Statuses, rss: treeRSS}, recycles); err != nil {
		return err
	}
	return registerRequestMetrics(ctx)
}

// allStates are the supervision states, in the order metrics list them.
var allStates = []string{StateStopped, StateStarting, StateRunning, StateBackoff, StateStopping, StateExited, StateFatal, StateScheduled, StateDisabled}

// processCollector reports the app's processes as they are at scrape time.
type processCollector struct {
	statuses func() []ProcessStatus
	// rss is the resident memory of pid and its descendants; false when
	// it cannot be read (not Linux, the process is gone).
	rss func(pid int) (int64, bool)
}

// Describe sends the descriptors of every metric Collect sends.
func (c processCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{processUpDesc, processStateDesc, processRestartsDesc, processStartDesc, processMemoryDesc, processHealthyDesc} {
		ch <- d
	}
}

// Collect sends the current metrics of each process.
func (c processCollector) Collect(ch chan<- prometheus.Metric) {
	sts := c.statuses()
	ok, _ := healthOf(sts, "")
	ch <- prometheus.MustNewConstMetric(processHealthyDesc, prometheus.GaugeValue, boolValue(ok && !stopping(nil)))
	for _, s := range sts {
		ch <- prometheus.MustNewConstMetric(processUpDesc, prometheus.GaugeValue, boolValue(s.State == StateRunning), s.Name)
		for _, state := range allStates {
			ch <- prometheus.MustNewConstMetric(processStateDesc, prometheus.GaugeValue, boolValue(s.State == state), s.Name, state)
		}
		ch <- prometheus.MustNewConstMetric(processRestartsDesc, prometheus.CounterValue, float64(s.Restarts), s.Name)
		if s.PID <= 0 {
			continue
		}
		if !s.StartedAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(processStartDesc, prometheus.GaugeValue, float64(s.StartedAt.UnixNano())/1e9, s.Name)
		}
		if c.rss != nil {
			if rss, ok := c.rss(s.PID); ok {
				ch <- prometheus.MustNewConstMetric(processMemoryDesc, prometheus.GaugeValue, float64(rss), s.Name)
			}
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Interface guards
var _ prometheus.Collector = processCollector{}
