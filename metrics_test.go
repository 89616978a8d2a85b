package caddydjango

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

func TestProcessCollector(t *testing.T) {
	started := time.Unix(1700000000, 500_000_000)
	c := processCollector{
		statuses: func() []ProcessStatus {
			return []ProcessStatus{
				{Name: gunicornName, State: StateRunning, PID: 42, StartedAt: started, Restarts: 3},
				{Name: "job", State: StateFatal, Restarts: 4},
			}
		},
		rss: func(pid int) (int64, bool) { return int64(pid) * 1000, pid == 42 },
	}
	if n := testutil.CollectAndCount(c); n != 1+2*(1+len(allStates)+1)+2 {
		t.Errorf("%d metrics", n)
	}
	want := `
# HELP caddy_django_healthy Whether the health rule of ` + "`caddy django status --check`" + ` holds (1) or not (0, also while Caddy drains or stops).
# TYPE caddy_django_healthy gauge
caddy_django_healthy 0
# HELP caddy_django_process_up Whether the process is RUNNING (1) or not (0).
# TYPE caddy_django_process_up gauge
caddy_django_process_up{process="gunicorn"} 1
caddy_django_process_up{process="job"} 0
# HELP caddy_django_process_restarts_total Restarts of the process: automatic ones (after an exit or a failed start) and through the admin API or a deploy.
# TYPE caddy_django_process_restarts_total counter
caddy_django_process_restarts_total{process="gunicorn"} 3
caddy_django_process_restarts_total{process="job"} 4
# HELP caddy_django_process_start_time_seconds When the process's current OS process started, in seconds since the Unix epoch (only while it has one).
# TYPE caddy_django_process_start_time_seconds gauge
caddy_django_process_start_time_seconds{process="gunicorn"} 1.7000000005e+09
# HELP caddy_django_process_resident_memory_bytes Resident memory of the process and all its descendants (Gunicorn's master and workers), in bytes (Linux only).
# TYPE caddy_django_process_resident_memory_bytes gauge
caddy_django_process_resident_memory_bytes{process="gunicorn"} 42000
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"caddy_django_healthy", "caddy_django_process_up", "caddy_django_process_restarts_total",
		"caddy_django_process_start_time_seconds", "caddy_django_process_resident_memory_bytes"); err != nil {
		t.Error(err)
	}
	// one state at 1 per process
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	ones := map[string]string{}
	for _, f := range families {
		if f.GetName() != "caddy_django_process_state" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetGauge().GetValue() == 1 {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if _, dup := ones[labels["process"]]; dup {
					t.Errorf("two states at 1 for %s", labels["process"])
				}
				ones[labels["process"]] = labels["state"]
			}
		}
	}
	if ones[gunicornName] != StateRunning || ones["job"] != StateFatal {
		t.Errorf("current states %v", ones)
	}
}

// TestRequestMetricsAcrossReloads: every config gets a new registry; the
// request metrics register in each (several handlers of one config too)
// and keep their counts.
func TestRequestMetricsAcrossReloads(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: t.Context()})
	defer cancel()
	for range 2 { // two handlers of one config
		if err := registerRequestMetrics(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := testutil.CollectAndCount(requestMetrics.waited)
	count := func() uint64 {
		var m dto.Metric
		if err := requestMetrics.waited.Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetHistogram().GetSampleCount()
	}
	n := count()
	done := waitMetrics()
	if v := testutil.ToFloat64(requestMetrics.waiting); v < 1 {
		t.Errorf("requests_waiting %v while a request waits", v)
	}
	done()
	if got := count(); got != n+1 {
		t.Errorf("request_wait_seconds count %d, want %d", got, n+1)
	}

	next, cancelNext := caddy.NewContext(caddy.Context{Context: t.Context()})
	defer cancelNext()
	if err := registerRequestMetrics(next); err != nil {
		t.Fatalf("registering in the next config's registry: %v", err)
	}
	if got := count(); got != n+1 || testutil.CollectAndCount(requestMetrics.waited) != before {
		t.Errorf("after a reload: count %d, want %d", got, n+1)
	}
	if _, err := next.GetMetricsRegistry().Gather(); err != nil {
		t.Errorf("gathering the next registry: %v", err)
	}

	g := requestMetrics.inFlight.WithLabelValues("127.0.0.1:1")
	sent := inFlightGauge("127.0.0.1:1")
	sent.Inc()
	if v := testutil.ToFloat64(g); v != 1 {
		t.Errorf("in flight %v, want 1", v)
	}
	sent.Dec()
	if v := testutil.ToFloat64(g); v != 0 {
		t.Errorf("in flight %v after the response, want 0", v)
	}
}

func TestParseProcStat(t *testing.T) {
	line := "1234 (gunicorn: worker) [x)]) S 1200 1200 1200 0 -1 4194560 100 0 0 0 5 1 0 0 20 0 1 0 500 12345678 2048 18446744073709551615 1 1 0 0 0 0 0 16781312 0 0 0 0 17 1 0 0 0 0 0"
	st, ok := parseProcStat([]byte(line))
	if !ok || st.ppid != 1200 || st.rssPages != 2048 {
		t.Errorf("parseProcStat = %+v, %v; want ppid 1200, 2048 pages", st, ok)
	}
	if st.state != 'S' || st.pgrp != 1200 {
		t.Errorf("parseProcStat = %+v; want state S, process group 1200", st)
	}
	if _, ok := parseProcStat([]byte("1 (x) S 0")); ok {
		t.Error("a short line parsed")
	}
}
