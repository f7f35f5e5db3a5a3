package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/testenv"
)

// TestTinySideBySide runs the Powertools peer beside the Go function (2 execution environments
// each) and the capacity table, briefly, and checks what the report
// promises: DynamoDB requests per path, one order and one charge per key, identical replays
// (a failure of the run otherwise).
func TestTinySideBySide(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing(t, "node is not installed")
	}
	if _, err := os.Stat(filepath.Join(root, peerDir, "node_modules", "@aws-lambda-powertools", "idempotency")); err != nil {
		missing(t, "the peer's npm packages are not installed (make bench-deps)")
	}
	md := tinyRun(t, "-clients", "2", "-requests", "2", "-warmup", "0", "-baseline", "20ms", "-sequential", "300ms", "-peer-sequential", "300ms",
		"-peer", "-peer-duration", "300ms", "-peer-warmup", "200ms", "-capacity")
	num := func(s string) float64 {
		f, err := strconv.ParseFloat(strings.Fields(s)[0], 64)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return f
	}
	// Both: the claim, the reservation (ours) or the order (the peer's), the completion; a replay
	// is the losing claim.
	for label, want := range map[string]float64{"DynamoDB requests per first request": 3, "DynamoDB requests per replay": 1} {
		if c := row(t, md, label); num(c[1]) != want || num(c[2]) != want {
			t.Errorf("%v, want %v each", c, want)
		}
	}
	for _, label := range []string{"write units per first request", "write units per replay", "peak memory (largest VmHWM of the processes)",
		"cold init p50 (process start to first GET next)", "first request p50, one at a time", "replays per second, 2 clients"} {
		if c := row(t, md, label); num(c[1]) <= 0 || num(c[2]) <= 0 {
			t.Errorf("%v", c)
		}
	}
	// A first checkout is 3 DynamoDB requests and a replay 1; the capacity run's first checkout
	// also reads the catalog into its cold cache: 4.
	if a, b, c := row(t, md, "checkout, first request"), row(t, md, "checkout, replay"), row(t, md, "webhook delivery"); a[1] != "4" || b[1] != "1" || num(c[3]) <= 0 {
		t.Errorf("capacity: %v %v %v", a, b, c)
	}
	for _, s := range []string{"## Side by side with Powertools", "### On-demand cost per million checkouts"} {
		if !strings.Contains(md, s) {
			t.Errorf("REPORT.md lacks %q:\n%s", s, md)
		}
	}
}

// missing skips, or fails under CI=true, when a dependency of the test is not installed.
func missing(t *testing.T, why string) {
	t.Helper()
	if testenv.CI() {
		t.Fatal(why + " (CI=true: failing instead of skipping)")
	}
	t.Skip(why)
}
