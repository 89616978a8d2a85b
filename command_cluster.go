package caddydjango

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

// What `caddy django status` says about the drain and the cluster lock
// (GET /django/cluster), and `status --check`'s "draining".

// fetchCluster reads GET /django/cluster (check: asked by a health check);
// false when the admin API has no answer (an older Caddy).
func fetchCluster(addr string, check bool) (ClusterStatus, bool) {
	path := "/django/cluster"
	if check {
		path += "?check"
	}
	var st ClusterStatus
	body, err := adminRequest(addr, http.MethodGet, path)
	if err != nil || json.Unmarshal(body, &st) != nil {
		return ClusterStatus{}, false
	}
	return st, true
}

// printClusterSection follows the status table with the drain and the
// lock, when there is something to say.
func printClusterSection(c *cobra.Command) {
	addr, err := adminAddress(c)
	if err != nil {
		return
	}
	if st, ok := fetchCluster(addr, false); ok {
		formatCluster(c.OutOrStdout(), st)
	}
}

// formatCluster writes the drain (while draining, or when one is set) and
// the lock lines.
func formatCluster(w io.Writer, st ClusterStatus) {
	var lines []string
	switch {
	case st.Draining && st.DrainLeft != "":
		lines = append(lines, fmt.Sprintf("DRAINING: health answers 503; the graceful stop begins in %s", st.DrainLeft))
	case st.Draining:
		lines = append(lines, "STOPPING: health answers 503; Caddy stops gracefully")
	case st.Drain != "0s":
		lines = append(lines, fmt.Sprintf("drain on stop: %s (%s)", st.Drain, st.DrainReason))
	}
	if st.Lock != "" {
		parts := []string{"lock " + st.Lock}
		if st.LockWaits > 0 {
			parts = append(parts, fmt.Sprintf("releases waited for it %d time(s)", st.LockWaits))
		}
		if st.LastLockWait != "" {
			parts = append(parts, "last release got it in "+st.LastLockWait)
		}
		if st.LockErrors > 0 {
			parts = append(parts, fmt.Sprintf("%d error(s), last at %s: %s", st.LockErrors, st.LastLockErrorAt.Local().Format("2006-01-02 15:04:05"), st.LastLockError))
		}
		lines = append(lines, strings.Join(parts, "; "))
	}
	if len(lines) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
}

// checkDraining is `status --check`'s problem while Caddy drains or stops
// ("" otherwise, or when the admin API cannot say).
func checkDraining(addr string) string {
	if st, ok := fetchCluster(addr, true); ok && st.Draining {
		return stoppingProblem
	}
	return ""
}
