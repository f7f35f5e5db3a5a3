package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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

func TestRatioIntervalPairsTheRoundsAndBracketsTheRatio(t *testing.T) {
	ms := func(v ...float64) []time.Duration {
		d := make([]time.Duration, len(v))
		for i, f := range v {
			d[i] = time.Duration(f * float64(time.Millisecond))
		}
		return d
	}
	t.Run("a side exactly half the other's in every round is 0.5 x, with no spread", func(t *testing.T) {
		a, b := ms(1, 2, 3, 4, 5), ms(2, 4, 6, 8, 10)
		if r, lo, hi := ratioInterval(a, b, 500); r != 0.5 || lo != 0.5 || hi != 0.5 {
			t.Errorf("ratio %v in [%v, %v], want 0.5 in [0.5, 0.5]", r, lo, hi)
		}
	})
	t.Run("noisy rounds give an interval around the ratio, and leave the samples in order", func(t *testing.T) {
		var a, b []time.Duration
		for i := range 400 {
			noise := float64(i%7) * 0.3
			a, b = append(a, ms(3+noise)...), append(b, ms(5+float64(i%11)*0.4)...)
		}
		first := a[1]
		r, lo, hi := ratioInterval(a, b, 1000)
		if !(lo <= r && r <= hi && lo < hi) || hi-lo > 0.2 {
			t.Errorf("ratio %.3f in [%.3f, %.3f], want it inside a narrow interval of some width", r, lo, hi)
		}
		if a[1] != first {
			t.Error("ratioInterval reordered its samples")
		}
		if again, lo2, hi2 := ratioInterval(a, b, 1000); again != r || lo2 != lo || hi2 != hi {
			t.Error("the same samples gave another interval")
		}
	})
	t.Run("the median of an even count is the mean of the middle two", func(t *testing.T) {
		if m := median(ms(4, 1, 3, 2)); m != ms(2.5)[0] {
			t.Errorf("median = %v, want 2.5ms", m)
		}
	})
}

func TestVerdictNeedsTheWholeIntervalUnderTheTarget(t *testing.T) {
	for _, tc := range []struct {
		ratio, lo, hi float64
		want          string
	}{
		{0.65, 0.62, 0.69, ": met (≤ 0.7 x)"},
		{0.68, 0.65, 0.72, ": met at the median, within the noise"},
		{0.72, 0.69, 0.75, ": **missed** at the median, within the noise"},
		{0.75, 0.72, 0.78, ": **missed** (≤ 0.7 x)"},
	} {
		if got := verdict(tc.ratio, tc.lo, tc.hi, 0.7); !strings.Contains(got, tc.want) {
			t.Errorf("verdict(%v in [%v, %v]) = %q, want %q", tc.ratio, tc.lo, tc.hi, got, tc.want)
		}
	}
}
