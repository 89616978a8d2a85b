package watch

import (
	"slices"
	"testing"
	"time"
)

// TestDiff: appeared, disappeared, resized and re-dated files differ.
func TestDiff(t *testing.T) {
	t0 := time.Unix(1000, 0)
	prev := map[string]stamp{"same": {1, t0}, "gone": {1, t0}, "bigger": {1, t0}, "newer": {1, t0}}
	cur := map[string]stamp{"same": {1, t0}, "bigger": {2, t0}, "newer": {1, t0.Add(time.Nanosecond)}, "new": {0, t0}}
	got := diff(prev, cur)
	slices.Sort(got)
	if want := []string{"bigger", "gone", "new", "newer"}; !slices.Equal(got, want) {
		t.Errorf("diff %v, want %v", got, want)
	}
}
