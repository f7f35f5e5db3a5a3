package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/testenv"
)

// TestTinySideBySide runs the Powertools peer beside the Go function (2 execution environments
// each), the capacity table and a storm of 30 duplicates, briefly, and checks what the report
// promises: request counts per path, one order and one charge per key, identical replays.
func TestTinySideBySide(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing(t, "node is not installed")
	}
	if _, err := os.Stat(filepath.Join(root, peerDir, "node_modules", "@aws-lambda-powertools", "idempotency")); err != nil {
		missing(t, "the peer's npm packages are not installed (make bench-deps)")
	}
	t.Setenv("DYNAMODB_ENDPOINT", testenv.DynamoEndpoint(t))
	out := t.TempDir()
	o, err := parseFlags([]string{"-clients", "2", "-scenarios", "unique", "-requests", "2", "-warmup", "0", "-baseline", "20ms",
		"-sequential", "300ms", "-peer-sequential", "300ms", "-peer", "-peer-duration", "300ms", "-peer-warmup", "200ms", "-capacity",
		"-storm-duplicates", "30", "-out", out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	rep, err := run(context.Background(), o, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(rep.Failures) > 0 {
		t.Fatalf("failures: %v\n%s", rep.Failures, log.String())
	}
	wantRequests := map[string]map[string]float64{
		// Go: the claim (one PutItem), the reservation of the order and its units, the completion.
		"checkout-idem (Go)": {pathFirst: 3, pathReplay: 1},
		"Powertools (Node)":  {pathFirst: 3, pathReplay: 1},
	}
	for _, s := range rep.peer.sides {
		for path, want := range wantRequests[s.name] {
			c := s.calls[path]
			if c.invocations == 0 || c.per(float64(c.requests)) != want || s.seq[path].requests() == 0 || s.con[path].requests() == 0 {
				t.Errorf("%s, %s: %d invocations, %.2f DynamoDB requests each (want %v), %d and %d measured", s.name, path,
					c.invocations, c.per(float64(c.requests)), want, s.seq[path].requests(), s.con[path].requests())
			}
			if c.wcu <= 0 {
				t.Errorf("%s, %s: no write units", s.name, path)
			}
		}
		if len(s.inits) != 2 || s.rss <= 0 || s.keys.Load() == 0 {
			t.Errorf("%s: %d inits, peak RSS %d, %d keys", s.name, len(s.inits), s.rss, s.keys.Load())
		}
	}
	// A first checkout is 3 DynamoDB requests (claim, reservation, completion) and a replay 1;
	// the capacity run's first checkout also reads the catalog into its cold cache: 4.
	if ops := rep.capacity.ops; len(ops) != 5 || ops[0].stats.requests != 4 || ops[1].stats.requests != 1 || ops[3].stats.wcu <= 0 {
		t.Errorf("capacity: %+v", ops)
	}
	if s := rep.storm; s.orders != 1 || s.charges != 1 || s.identical+s.retryAfter != 30 || s.requests < 30 {
		t.Errorf("storm: %+v", s)
	}
	md, err := os.ReadFile(filepath.Join(out, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"## Side by side with Powertools", "| first request p50, one at a time |", "## Capacity units per operation",
		"### On-demand cost per million checkouts", "## A storm on one key", "| orders / charges | 1 / 1 |"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("REPORT.md lacks %q", s)
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
