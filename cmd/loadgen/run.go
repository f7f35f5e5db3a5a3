package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// result is one scenario's figures. Counts that cannot be observed are -1.
type result struct {
	name, about string
	clients     int
	s           *sample
	elapsed     time.Duration
	keys        int64
	ddb         int64 // DynamoDB requests sent by the API during the scenario
	orders      int64 // orders created during the scenario (preparation included)
	charges     int64 // PaymentIntents created
	// xAlone and xLoaded are p50 divided by the p50 of a bare PutItem, alone and at the same
	// concurrency, averaged over the baseline phases before and after the scenario; 0: n/a.
	xAlone, xLoaded float64
}

func (r result) rate() float64 { return float64(r.s.requests()) / r.elapsed.Seconds() }

// report is everything REPORT.md shows.
type report struct {
	started, ended time.Time
	command        string
	where          string
	clients        int
	opts           options
	loadBefore     string
	loadAfter      string
	results        []result
	baseline       []baselinePhase
	sequential     []sequential
	cold           *coldReport
	peer           *peerReport
	capacity       *capacityReport
	storm          *stormReport
	// Failures are broken promises (orders or charges other than distinct keys): exit 1.
	Failures []string
	// warnings are worth reading but do not fail the run.
	warnings []string
}

// run measures everything the options ask for and writes the report.
func run(ctx context.Context, o options, stdout io.Writer) (*report, error) {
	rep := &report{started: time.Now(), command: o.command, clients: o.clients, opts: o, loadBefore: loadAverage()}
	sys, err := newSystem(ctx, o, stdout)
	if err != nil {
		return nil, err
	}
	defer sys.close()
	rep.where = sys.where
	fmt.Fprintf(stdout, "loadgen: %d clients against %s\n", o.clients, sys.url)

	var cold *coldRun
	if o.coldstart {
		fmt.Fprintln(stdout, "building the Lambda bootstraps ...")
		cold, err = buildColdstart(ctx)
		if err != nil {
			return nil, err
		}
		defer cold.close()
	}

	l := &loader{url: sys.url, client: httpClient(o.clients), clients: o.clients}
	runID := randomID()
	if o.warmup > 0 {
		fmt.Fprintf(stdout, "warming up for %s ...\n", o.warmup)
		s, _ := l.loop(ctx, &limit{deadline: time.Now().Add(o.warmup)}, func(i int64) string {
			if i%2 == 1 {
				i-- // every key twice: the replay path warms up too
			}
			return fmt.Sprintf("%s-warm-%d", runID, i)
		})
		if s.errors > 0 {
			return nil, fmt.Errorf("warm-up: %d requests failed: %s", s.errors, s.firstErr)
		}
	}

	var base *baseline
	measureBase := func(label string) error {
		if base == nil {
			return nil
		}
		ph, err := base.measure(ctx, label)
		if err != nil {
			return err
		}
		rep.baseline = append(rep.baseline, ph)
		fmt.Fprintf(stdout, "baseline PutItem (%s): p50 %s alone, %s at %d at once\n", label, ms(ph.alone), ms(ph.loaded), o.clients)
		return nil
	}
	if sys.inProcess() {
		base = &baseline{client: sys.ddb, table: sys.cfg.IdempotencyTable, clients: o.clients, length: o.baseline}
	}
	if err := measureBase("before " + o.scenarios[0]); err != nil {
		return nil, err
	}
	for i, name := range o.scenarios {
		sc := scenarios[name]
		r := result{name: name, about: sc.about, clients: o.clients, ddb: -1, orders: -1, charges: -1}
		var orders0, charges0 int
		if sys.inProcess() {
			if orders0, err = sys.countOrders(ctx); err != nil {
				return nil, err
			}
			charges0 = sys.payments.Created()
		}
		var ddb0 int64
		begin := func() { // DynamoDB requests count from here
			if sys.counter != nil {
				ddb0 = sys.counter.Load()
			}
		}
		r.s, r.elapsed, r.keys = sc.run(ctx, l, o, runID, begin)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if sys.inProcess() {
			r.ddb = sys.counter.Load() - ddb0
			n, err := sys.countOrders(ctx)
			if err != nil {
				return nil, err
			}
			r.orders, r.charges = int64(n-orders0), int64(sys.payments.Created()-charges0)
			if r.orders != r.keys || r.charges != r.keys {
				rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %d distinct keys made %d orders and %d charges",
					name, r.keys, r.orders, r.charges))
			}
		}
		if r.s.errors > 0 {
			rep.warnings = append(rep.warnings, fmt.Sprintf("%s: %d requests failed in transport (first: %s)", name, r.s.errors, r.s.firstErr))
		}
		for code, n := range r.s.status {
			if code != http.StatusOK && code != http.StatusCreated {
				rep.warnings = append(rep.warnings, fmt.Sprintf("%s: %d answers with status %d", name, n, code))
			}
		}
		label := "after " + name
		if i+1 < len(o.scenarios) {
			label = "between " + name + " and " + o.scenarios[i+1]
		}
		if err := measureBase(label); err != nil {
			return nil, err
		}
		if base != nil {
			before, after := rep.baseline[len(rep.baseline)-2], rep.baseline[len(rep.baseline)-1]
			p50 := float64(r.s.quantile(50))
			r.xAlone = p50 / float64((before.alone+after.alone)/2)
			r.xLoaded = p50 / float64((before.loaded+after.loaded)/2)
		}
		rep.results = append(rep.results, r)
		fmt.Fprintln(stdout, summaryLine(r))
	}

	if base != nil && o.sequential > 0 {
		fmt.Fprintf(stdout, "one request at a time, each after a bare PutItem, %s per path ...\n", o.sequential)
		seq, err := measureSequential(ctx, sys, l, base, o.sequential, runID)
		if err != nil {
			return nil, err
		}
		for _, s := range seq {
			if s.orders != s.keys || s.charges != s.keys {
				rep.Failures = append(rep.Failures, fmt.Sprintf("one at a time, %s: %d distinct keys made %d orders and %d charges",
					s.name, s.keys, s.orders, s.charges))
			}
			fmt.Fprintf(stdout, "  %-7s p50 %s, PutItem p50 %s: %.2f x (HTTP round trip p50 %s), ddb/req %.2f\n", s.name,
				ms(s.api.quantile(50)), ms(s.put.quantile(50)), s.ratio(), ms(s.http.quantile(50)), float64(s.ddb)/float64(s.api.requests()))
		}
		rep.sequential = seq
	}

	if o.peer || o.capacity || o.bigStorm > 0 {
		if !sys.inProcess() {
			return nil, fmt.Errorf("-peer, -capacity and -storm-duplicates need the in-process set-up (no -target)")
		}
	}
	if o.peer {
		if rep.peer, err = runPeer(ctx, sys, o, stdout); err != nil {
			return nil, fmt.Errorf("side by side: %w", err)
		}
		rep.Failures = append(rep.Failures, rep.peer.failures...)
		rep.warnings = append(rep.warnings, rep.peer.warnings...)
		fmt.Fprint(stdout, peerSummary(rep.peer))
	}
	if o.capacity {
		if rep.capacity, err = measureCapacity(ctx, sys, stdout); err != nil {
			return nil, fmt.Errorf("capacity: %w", err)
		}
		rep.Failures = append(rep.Failures, rep.capacity.failures...)
	}
	if o.bigStorm > 0 {
		if rep.storm, err = runStorm(ctx, sys, o.bigStorm, stdout); err != nil {
			return nil, fmt.Errorf("storm: %w", err)
		}
		rep.Failures = append(rep.Failures, rep.storm.failures...)
	}

	if cold != nil {
		if sys.endpoint == "" {
			rep.warnings = append(rep.warnings, "cold start skipped: it needs DynamoDB (set DYNAMODB_ENDPOINT with -target)")
		} else {
			fmt.Fprintf(stdout, "cold starts: %d per function ...\n", o.coldRuns)
			rep.cold = cold.measure(ctx, sys, o.coldRuns, stdout)
		}
	}
	rep.ended, rep.loadAfter = time.Now(), loadAverage()
	if err := writeReport(rep, o.out); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(o.out, "REPORT.md"))
	return rep, nil
}

func summaryLine(r result) string {
	line := fmt.Sprintf("%-7s %7d req %8.0f req/s  p50 %s  p95 %s  p99 %s  statuses %s",
		r.name, r.s.requests(), r.rate(), ms(r.s.quantile(50)), ms(r.s.quantile(95)), ms(r.s.quantile(99)), statuses(r.s))
	if r.ddb >= 0 {
		line += fmt.Sprintf("  ddb/req %.2f  orders %d charges %d keys %d", float64(r.ddb)/float64(r.s.requests()), r.orders, r.charges, r.keys)
	}
	return line
}

func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// loadAverage is /proc/loadavg's first three fields, or "" where there is none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	var a, b5, c string
	if _, err := fmt.Sscan(string(b), &a, &b5, &c); err != nil {
		return ""
	}
	return a + " " + b5 + " " + c
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
