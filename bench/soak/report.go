//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"
)

// check is one judged figure of the summary.
type check struct {
	name, value, bound string
	ok                 bool
}

func (s *soak) report(_ int, left []string, loadEnd string) bool {
	var checks []check
	add := func(name, value, bound string, ok bool) { checks = append(checks, check{name, value, bound, ok}) }
	fmt.Printf("\n== soak summary (seed %d, %s, load at the end %s) ==\n", s.seed, s.duration, loadEnd)

	// the per-minute table again, whole
	fmt.Println("\nPer minute (requests and /hello/ latency of the minute before the sample; procs: processes below Caddy minus Gunicorn's configured workers):")
	fmt.Println(tableHead)
	for _, sm := range s.samples {
		fmt.Println(s.row(sm))
	}

	// events
	byName, failedEv := map[string]int{}, 0
	fmt.Println("\nEvents:")
	for _, ev := range s.evs {
		byName[ev.name]++
		if ev.err != nil {
			failedEv++
			fmt.Printf("  FAILED at %s: %s (%s): %v\n", ev.t0.Sub(s.start).Round(time.Second), ev.name, ev.detail, ev.err)
		}
	}
	var evParts []string
	for _, n := range eventNames {
		evParts = append(evParts, fmt.Sprintf("%s %d", n, byName[n]))
	}
	fmt.Printf("  %d events: %s\n", len(s.evs), strings.Join(evParts, ", "))
	add("events that failed", fmt.Sprint(failedEv), "0", failedEv == 0)

	// requests
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	total := 0
	kinds := make([]string, 0, len(s.rec.counts))
	for k, n := range s.rec.counts {
		kinds = append(kinds, k)
		total += n
	}
	sort.Strings(kinds)
	failed, explained := map[string]int{}, map[string]int{}
	var unexplained []failure
	reasons := map[string]int{}
	for _, f := range s.rec.failures {
		if k := s.killDuring(f.server, f.start, f.end); k != nil {
			explained[f.kind]++
			reasons[fmt.Sprintf("in flight in the SIGKILLed %s", k.what)]++
			continue
		}
		failed[f.kind]++
		unexplained = append(unexplained, f)
	}
	fmt.Println("\nRequests by kind (both sites; failed: any error, wrong status or wrong bytes; cut by SIGKILL: in flight in that app server when the run SIGKILLed its process):")
	fmt.Printf("  %-10s %9s %7s %15s\n", "kind", "requests", "failed", "cut by SIGKILL")
	nFailed, nExplained := 0, 0
	for _, k := range kinds {
		fmt.Printf("  %-10s %9d %7d %15d\n", k, s.rec.counts[k], failed[k], explained[k])
		nFailed += failed[k]
		nExplained += explained[k]
	}
	for r, n := range reasons {
		fmt.Printf("  cut by SIGKILL: %d %s\n", n, r)
	}
	for i, f := range unexplained {
		if i == 20 {
			fmt.Printf("  ... %d more\n", len(unexplained)-20)
			break
		}
		fmt.Printf("  FAILED %s via %s at %s (took %s): %s\n", f.kind, f.server, f.start.Sub(s.start).Round(time.Millisecond), f.end.Sub(f.start).Round(time.Millisecond), f.err)
	}
	add("failed requests", fmt.Sprint(nFailed), "0", nFailed == 0)

	// streams
	expected, lost := map[string]int{}, 0
	fmt.Println("\nWebsockets and event streams (through uvicorn):")
	for _, e := range s.rec.ends {
		if g := s.mon.attachedStop(e.open0, e.open1, e.end); g != nil {
			expected[fmt.Sprintf("%s closed by the stop of uvicorn %d (%s)", e.kind, g.pid, s.eventAround(g.gone))]++
			continue
		}
		lost++
		fmt.Printf("  LOST %s opened at %s, ended at %s: %s\n", e.kind, e.open0.Sub(s.start).Round(time.Millisecond), e.end.Sub(s.start).Round(time.Millisecond), e.err)
	}
	nExpected := 0
	for r, n := range expected {
		nExpected += n
		fmt.Printf("  expected: %d %s\n", n, r)
	}
	fmt.Printf("  websockets opened %d, messages echoed %d; event streams read whole %d; closed with their app server %d, lost %d\n",
		s.rec.wsOpened.Load(), s.rec.wsMsgs.Load(), s.rec.sseDone.Load(), nExpected, lost)
	add("streams closed other than by their app server's stop", fmt.Sprint(lost), "0", lost == 0)

	// resources
	fmt.Printf("\nResources after the %s warm-up (fitted growth: least-squares slope x the sampled span):\n", s.warmup)
	var judged []sample
	for _, sm := range s.samples {
		if sm.at >= s.warmup {
			judged = append(judged, sm)
		}
	}
	if len(judged) < 3 {
		fmt.Printf("  only %d samples after the warm-up: resources and latency drift not judged (run longer)\n", len(judged))
		add("resource samples after warm-up", fmt.Sprint(len(judged)), ">= 3", false)
	} else {
		type metric struct {
			name    string
			get     func(sample) float64
			rel     float64 // bound: max(rel x mean, abs)
			abs     float64
			unitFmt func(float64) string
		}
		mib := func(v float64) string { return fmt.Sprintf("%.1f MiB", v/1024) }
		num := func(v float64) string { return fmt.Sprintf("%.1f", v) }
		for _, m := range []metric{
			{"Caddy RSS", func(x sample) float64 { return float64(x.rssKB) }, 0.10, 10 * 1024, mib},
			{"goroutines", func(x sample) float64 { return float64(x.goroutines) }, 0.10, 20, num},
			{"open fds", func(x sample) float64 { return float64(x.fds) }, 0.10, 10, num},
			{"threads", func(x sample) float64 { return float64(x.threads) }, 0.20, 5, num},
		} {
			ys := make([]float64, len(judged))
			xs := make([]float64, len(judged))
			mean := 0.0
			for i, sm := range judged {
				xs[i], ys[i] = sm.at.Minutes(), m.get(sm)
				mean += ys[i]
			}
			mean /= float64(len(ys))
			slope := fitSlope(xs, ys)
			growth := slope * (xs[len(xs)-1] - xs[0])
			bound := math.Max(m.rel*mean, m.abs)
			val := fmt.Sprintf("%s -> %s, fitted growth %s", m.unitFmt(ys[0]), m.unitFmt(ys[len(ys)-1]), m.unitFmt(growth))
			fmt.Printf("  %-11s %s (bound %s)\n", m.name, val, m.unitFmt(bound))
			add(m.name+" flat", val, "fitted growth <= "+m.unitFmt(bound), growth <= bound)
		}
		base := judged[0].procs - judged[0].workers
		badProcs, badZ, badDirs, badTmp, badDel, unsettled := 0, 0, 0, 0, 0, 0
		for _, sm := range judged {
			if sm.procs-sm.workers != base {
				badProcs++
			}
			if sm.zombies != 0 {
				badZ++
			}
			if sm.genDirs != 2 {
				badDirs++
			}
			if sm.tmpFiles != judged[0].tmpFiles {
				badTmp++
			}
			if sm.deleted > 2 { // at most one upload in flight per site
				badDel++
			}
			if !sm.settled {
				unsettled++
			}
		}
		add("processes (minus Gunicorn workers) constant", fmt.Sprintf("%d, %d samples differ", base, badProcs), "every sample equal", badProcs == 0)
		add("zombies", fmt.Sprintf("%d samples with any", badZ), "0 in every sample", badZ == 0)
		add("generation directories", fmt.Sprintf("%d samples with other than 2", badDirs), "2 (one per app server) in every sample", badDirs == 0)
		add("files in TMPDIR constant", fmt.Sprintf("%d, %d samples differ", judged[0].tmpFiles, badTmp), "every sample equal", badTmp == 0)
		add("fds on unlinked files (body buffers)", fmt.Sprintf("%d samples with more than 2", badDel), "<= 2 (uploads in flight)", badDel == 0)
		add("samples settled", fmt.Sprintf("%d of %d unsettled after 45 s", unsettled, len(judged)), "all settled", unsettled == 0)

		// latency drift
		for _, server := range []string{"gunicorn", "asgi"} {
			var p50, p90 []float64
			for _, sm := range judged {
				if i := sm.minute - 1; i >= 0 && i < len(s.rec.minutes) && len(s.rec.minutes[i].hello[server]) > 0 {
					p50 = append(p50, msq(s.rec.minutes[i].hello[server], 0.5))
					p90 = append(p90, msq(s.rec.minutes[i].hello[server], 0.9))
				}
			}
			if len(p50) < 3 {
				continue
			}
			third := len(p50) / 3
			f50, l50 := median(p50[:third]), median(p50[len(p50)-third:])
			f90, l90 := median(p90[:third]), median(p90[len(p90)-third:])
			add(fmt.Sprintf("/hello/ via %s p50 drift", server), fmt.Sprintf("%.1f -> %.1f ms", f50, l50), "last third <= 1.5x first third + 2 ms", l50 <= 1.5*f50+2)
			add(fmt.Sprintf("/hello/ via %s p90 drift", server), fmt.Sprintf("%.1f -> %.1f ms", f90, l90), "last third <= 2x first third + 5 ms", l90 <= 2*f90+5)
		}
	}

	// the schedule and shutdown
	done, failedRuns := countInLog(s.caddyLog, `"scheduled job done"`), countInLog(s.caddyLog, `"scheduled job failed"`)
	wantRuns := int(s.duration/time.Minute) - 1
	add("schedule runs", fmt.Sprintf("%d done, %d failed", done, failedRuns), fmt.Sprintf(">= %d done, 0 failed", wantRuns), done >= wantRuns && failedRuns == 0)
	add("left behind after Caddy's SIGTERM", fmt.Sprintf("%d (%s)", len(left), strings.Join(left, "; ")), "0", len(left) == 0)

	errs, nErr := errorLines(s.caddyLog)
	fmt.Printf("\nCaddy's log: %d error-level lines (not judged: a SIGKILLed process is expected to be reported)\n", nErr)
	for i, e := range errs {
		if i == 10 {
			break
		}
		fmt.Printf("  %s\n", e)
	}

	fmt.Println("\nChecks:")
	allOK := true
	for _, c := range checks {
		v := "ok"
		if !c.ok {
			v, allOK = "FAIL", false
		}
		fmt.Printf("  %-4s %-52s %-44s bound: %s\n", v, c.name, c.value, c.bound)
	}
	var last []string
	last = append(last, fmt.Sprintf("soak: %s %d requests, %d failed, %d cut by SIGKILL", s.duration, total, nFailed, nExplained))
	last = append(last, fmt.Sprintf("%d websockets (%d messages) and %d event streams, %d lost, %d closed with their app server", s.rec.wsOpened.Load(), s.rec.wsMsgs.Load(), s.rec.sseDone.Load(), lost, nExpected))
	last = append(last, fmt.Sprintf("%d events (%d failed)", len(s.evs), failedEv))
	if len(judged) >= 3 {
		a, b := judged[0], judged[len(judged)-1]
		last = append(last, fmt.Sprintf("RSS %.1f->%.1f MiB, goroutines %d->%d, fds %d->%d, threads %d->%d", float64(a.rssKB)/1024, float64(b.rssKB)/1024, a.goroutines, b.goroutines, a.fds, b.fds, a.threads, b.threads))
	}
	verdict := "all figures hold"
	if !allOK {
		verdict = "FAILED"
	}
	fmt.Printf("%s: %s\n", strings.Join(last, ", "), verdict)
	return allOK
}

// killDuring returns a SIGKILL of server's process sent while a request
// was in flight (started before it, ended after it).
func (s *soak) killDuring(server string, start, end time.Time) *kill {
	for i := range s.kills {
		k := &s.kills[i]
		if k.server == server && !start.After(k.t) && !end.Before(k.t) {
			return k
		}
	}
	return nil
}

// eventAround names the event that was going on at t (or had just ended).
func (s *soak) eventAround(t time.Time) string {
	for _, ev := range s.evs {
		if !t.Before(ev.t0.Add(-time.Second)) && !t.After(ev.t1.Add(2*time.Second)) {
			return ev.name + ": " + ev.detail
		}
	}
	return "no event"
}

func fitSlope(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

func median(xs []float64) float64 {
	s := append([]float64{}, xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func countInLog(path, needle string) int {
	data, _ := os.ReadFile(path)
	return strings.Count(string(data), needle)
}

// errorLines counts Caddy's error-level log lines by logger and message.
func errorLines(path string) (out []string, total int) {
	data, _ := os.ReadFile(path)
	counts := map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		var e struct{ Level, Logger, Msg string }
		if json.Unmarshal([]byte(line), &e) == nil && e.Level == "error" {
			counts[e.Logger+": "+e.Msg]++
			total++
		}
	}
	for k, n := range counts {
		out = append(out, fmt.Sprintf("%5d %s", n, k))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out, total
}
