package caddydjango

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/caddy-django/caddy-django/internal/clusterlock"
	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
	"go.uber.org/zap"
)

// The cluster lock (`lock` in the django block) in use: the release
// commands run under it (one container at a time: the later ones find
// nothing left to migrate), and a schedule with `once` claims each of its
// scheduled times in it before it runs (one container runs it; the others
// log that it ran elsewhere). The lock itself is internal/clusterlock.

// releaseLockName is the lock the release commands run under.
const releaseLockName = "release"

// claimTimeout bounds a schedule's claim of a slot (connecting included).
const claimTimeout = 15 * time.Second

// provisionLock parses Lock (nothing is contacted before it is used).
func (a *App) provisionLock(ctx caddy.Context) error {
	if err := registerAll(ctx, lockMetrics.waits, lockMetrics.waited, lockMetrics.errors, lockMetrics.skipped); err != nil {
		return err
	}
	if a.Lock == "" {
		return nil
	}
	raw, err := expandPlaceholders("lock", a.Lock)
	if err != nil {
		return err
	}
	if raw == "" {
		// not an error of the config: `caddy validate` in an image build
		// has no DATABASE_URL. Every use of the lock fails instead (the
		// release, the once schedules' runs): never run without it.
		a.lock = unusableLock{a.Lock, fmt.Errorf("lock %s is empty (an environment variable that is not set?)", a.Lock)}
		return nil
	}
	store, err := clusterlock.Open(raw, a.Root, instanceName())
	if err != nil {
		return fmt.Errorf("lock: %v", err)
	}
	a.lock = store
	a.lockKey = raw
	return nil
}

// unusableLock is a lock whose URL expanded to nothing: every use fails.
type unusableLock struct {
	url string
	err error
}

func (l unusableLock) Lock(context.Context, string, func(string)) (func() error, error) {
	return nil, l.err
}

func (l unusableLock) Claim(context.Context, string, time.Time) (clusterlock.Claim, error) {
	return clusterlock.Claim{}, l.err
}

func (l unusableLock) String() string { return l.url }

// instanceName names this container to the others: its host name (a
// container's ID in Docker) and Caddy's PID.
func instanceName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "?"
	}
	return fmt.Sprintf("%s pid %d", host, os.Getpid())
}

// lockMetrics are package-level: their counts survive config reloads.
var lockMetrics = struct {
	waits   prometheus.Counter
	waited  prometheus.Histogram
	errors  prometheus.Counter
	skipped *prometheus.CounterVec
}{
	waits: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: metricsNamespace,
		Name:      "lock_waits_total",
		Help:      "Times the release commands waited for the cluster lock (another container held it).",
	}),
	waited: prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: metricsNamespace,
		Name:      "lock_wait_seconds",
		Help:      "How long the release commands took to get the cluster lock.",
		Buckets:   []float64{0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600},
	}),
	errors: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: metricsNamespace,
		Name:      "lock_errors_total",
		Help:      "Failed uses of the cluster lock: releases that could not take it, scheduled runs skipped because it could not be reached.",
	}),
	skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metricsNamespace,
		Name:      "schedule_skipped_total",
		Help:      "Scheduled runs not run here, by reason: overlap (the previous run still ran), elsewhere (another container ran it: once), lock_error (once, and the lock could not be reached).",
	}, []string{"schedule", "reason"}),
}

// lockStats is what `caddy django status` says about the lock (the
// process's, across reloads).
var lockStats struct {
	sync.Mutex
	waits     int
	lastWait  time.Duration
	errors    int
	lastError string
	at        time.Time // of lastError
}

// lockFailed counts a failed use of the lock.
func lockFailed(err error) {
	lockMetrics.errors.Inc()
	lockStats.Lock()
	lockStats.errors++
	lockStats.lastError, lockStats.at = err.Error(), time.Now()
	lockStats.Unlock()
}

// takeReleaseLock takes the cluster lock for the release commands, when
// there is a lock and there are release commands; a lock not had within
// release_timeout is an error. unlock gives it back.
func (a *App) takeReleaseLock(ctx context.Context) (unlock func(), err error) {
	if a.lock == nil || len(a.releases) == 0 {
		return func() {}, nil
	}
	log := a.logger.Named("release")
	wctx, cancel := context.WithTimeout(ctx, time.Duration(a.ReleaseTimeout))
	start := time.Now()
	free, err := a.lock.Lock(wctx, releaseLockName, func(holder string) {
		lockMetrics.waits.Inc()
		lockStats.Lock()
		lockStats.waits++
		lockStats.Unlock()
		log.Info("waiting for the release lock: another container runs the release commands",
			zap.String("lock", a.lock.String()), zap.String("holder", holder), zap.Duration("timeout", time.Duration(a.ReleaseTimeout)))
	})
	cancel()
	waited := time.Since(start)
	lockMetrics.waited.Observe(waited.Seconds())
	lockStats.Lock()
	lockStats.lastWait = waited
	lockStats.Unlock()
	if err != nil {
		err = fmt.Errorf("release lock %s: %v", a.lock, err)
		lockFailed(err)
		return nil, err
	}
	log.Info("release lock taken", zap.String("lock", a.lock.String()), zap.Duration("waited", waited))
	return func() {
		if err := free(); err != nil {
			log.Error("releasing the release lock", zap.Error(err))
		}
	}, nil
}

// onceState is a `once` schedule's record of the slots it did not run
// (under process.mu).
type onceState struct {
	elsewhere  int
	lockErrors int
}

// resolveOnce sets up s (the spec of schedule c) to claim its slots in
// the app's lock.
func (a *App) resolveOnce(c *ScheduleConfig, s *spec) error {
	if !c.Once {
		return nil
	}
	if a.lock == nil {
		return errors.New("once needs `lock` in the django block (a PostgreSQL URL or file:<dir> that every container shares)")
	}
	s.Once, s.LockKey, s.claims = true, a.lockKey, a.lock
	return nil
}

// onceNext is a `once` schedule's next run after now: robfig/cron's,
// except that an @every period is counted from the Unix epoch (robfig/cron
// counts it from now), so that containers started at different times agree
// on the slots.
func onceNext(sched cron.Schedule, now time.Time) time.Time {
	every, ok := sched.(cron.ConstantDelaySchedule)
	if !ok {
		return sched.Next(now)
	}
	n, p := now.UnixNano(), every.Delay.Nanoseconds()
	return time.Unix(0, (n/p+1)*p)
}

// claimSlot claims slot for a `once` schedule: true when this container
// runs it. Slots another container claimed, and slots that cannot be
// claimed (the lock unreachable: never run twice), are skipped, logged and
// counted.
func (p *process) claimSlot(slot time.Time) bool {
	ctx, cancel := context.WithTimeout(context.Background(), claimTimeout)
	defer cancel()
	go func() { // a stop does not wait for the claim
		select {
		case <-p.stopReq:
			cancel()
		case <-ctx.Done():
		}
	}()
	c, err := p.spec.claims.Claim(ctx, p.spec.Name, slot)
	switch {
	case err != nil && p.stopping():
		return false
	case err != nil:
		err = fmt.Errorf("lock %s: %v", p.spec.claims, err)
		lockFailed(err)
		lockMetrics.skipped.WithLabelValues(p.spec.Name, "lock_error").Inc()
		p.setState(StateScheduled, func() {
			p.sched.once.lockErrors++
			p.lastErr = fmt.Sprintf("run of %s skipped: %v", slot.Format(time.RFC3339), err)
		})
		p.log().Error("scheduled run skipped: the lock cannot be reached, and without it the run could happen twice",
			zap.Time("slot", slot), zap.Error(err))
		return false
	case !c.Won:
		lockMetrics.skipped.WithLabelValues(p.spec.Name, "elsewhere").Inc()
		p.mu.Lock()
		p.sched.once.elsewhere++
		p.mu.Unlock()
		p.log().Info("scheduled run skipped: it ran in another container",
			zap.Time("slot", slot), zap.String("ran_by", c.By), zap.Time("last_slot", c.Slot))
		return false
	}
	p.log().Info("scheduled slot claimed: this container runs it", zap.Time("slot", slot))
	return true
}

// onceStatus adds a `once` schedule's fields to st (p.mu held).
func (p *process) onceStatus(st *ProcessStatus) {
	if !p.spec.Once {
		return
	}
	st.Once = true
	st.RanElsewhere = p.sched.once.elsewhere
	st.LockErrors = p.sched.once.lockErrors
}

// onceCell is a `once` schedule's part of the status table's last column.
func onceCell(s ProcessStatus) []string {
	if !s.Once {
		return nil
	}
	part := fmt.Sprintf("once: %d ran elsewhere", s.RanElsewhere)
	if s.LockErrors > 0 {
		part += fmt.Sprintf(", %d skipped (lock unreachable)", s.LockErrors)
	}
	return []string{part}
}

// ClusterStatus is GET /django/cluster: what this Caddy does with the
// other containers of its deployment, the drain on stop and the lock.
type ClusterStatus struct {
	// Draining is true from the moment Caddy was told to stop until it
	// exits: the health endpoint answers 503 and `status --check` fails.
	Draining bool `json:"draining"`

	// DrainLeft is the time left of the drain under way, e.g. "3.2s",
	// before the graceful stop begins.
	DrainLeft string `json:"drain_left,omitempty"`

	// Drain is the drain Caddy would apply if told to stop now, e.g.
	// "5s" or "0s", and DrainReason where it comes from.
	Drain       string `json:"drain"`
	DrainReason string `json:"drain_reason"`

	// Lock is the lock's URL, its password hidden ("" without `lock`).
	Lock string `json:"lock,omitempty"`

	// LockWaits counts the release commands' waits for the lock (another
	// container held it); LastLockWait is how long the last release took
	// to get it.
	LockWaits    int    `json:"lock_waits"`
	LastLockWait string `json:"last_lock_wait,omitempty"`

	// LockErrors counts failed uses of the lock (a release that could not
	// take it, a scheduled run skipped because it could not be reached);
	// LastLockError is the last one, at LastLockErrorAt.
	LockErrors      int       `json:"lock_errors"`
	LastLockError   string    `json:"last_lock_error,omitempty"`
	LastLockErrorAt time.Time `json:"last_lock_error_at,omitzero"`
}

// clusterStatus reports the drain and the lock.
func (a *App) clusterStatus() ClusterStatus {
	now := time.Now()
	d, why := a.drainFor(now)
	st := ClusterStatus{Draining: caddy.Exiting(), Drain: d.String(), DrainReason: why}
	if left := drainLeft(now); left > 0 {
		st.DrainLeft = left.Round(100 * time.Millisecond).String()
	}
	if a.lock != nil {
		st.Lock = a.lock.String()
	}
	lockStats.Lock()
	defer lockStats.Unlock()
	st.LockWaits, st.LockErrors = lockStats.waits, lockStats.errors
	if lockStats.lastWait > 0 {
		st.LastLockWait = lockStats.lastWait.Round(time.Millisecond).String()
	}
	st.LastLockError, st.LastLockErrorAt = lockStats.lastError, lockStats.at
	return st
}

// Interface guards
var _ clusterlock.Store = unusableLock{}
