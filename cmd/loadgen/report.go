package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/checkout-idem/checkout/cmd/loadgen/coldstart"
)

// Cold start targets of the issue.
const (
	targetSize = 10_000_000 // bytes: 10 MB
	targetInit = 50 * time.Millisecond
)

func writeReport(rep *report, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "REPORT.md"))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	writeMarkdown(w, rep)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeMarkdown(w *bufio.Writer, rep *report) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	na := func(v int64) string {
		if v < 0 {
			return "n/a"
		}
		return fmt.Sprint(v)
	}
	p("# Benchmark report: load, side by side with Powertools, capacity, storm, cold start")
	p("")
	p("Written by `cmd/loadgen` (`make bench`); every figure below was measured in this run, on this machine.")
	p("")
	p("| | |")
	p("| --- | --- |")
	p("| date | %s (%s) |", rep.started.UTC().Format("2006-01-02 15:04 MST"), rep.ended.Sub(rep.started).Round(time.Second))
	p("| command | `%s` |", rep.command)
	p("| machine | %s/%s, %d CPUs%s, %s |", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version())
	if rep.loadBefore != "" {
		p("| load average (1, 5, 15 min) | %s before, %s after: the machine is shared, so other work competes for its CPUs |", rep.loadBefore, rep.loadAfter)
	}
	p("| system under test | %s |", rep.where)
	p("| clients | %d concurrent HTTP/1.1 clients, keep-alive, on loopback |", rep.clients)
	p("")
	if len(rep.Failures) > 0 {
		p("**FAILED:**")
		p("")
		for _, f := range rep.Failures {
			p("- %s", f)
		}
		p("")
	}
	p("## Load")
	p("")
	p("| scenario | requests | req/s | p50 | p95 | p99 | max | statuses | DynamoDB req / API req | distinct keys | orders | charges | p50 / PutItem p50 alone | p50 / PutItem p50 at %d |", rep.clients)
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rep.results {
		ddb := "n/a"
		if r.ddb >= 0 && r.s.requests() > 0 {
			ddb = fmt.Sprintf("%.2f", float64(r.ddb)/float64(r.s.requests()))
		}
		xa, xl := "n/a", "n/a"
		if r.xAlone > 0 {
			xa, xl = fmt.Sprintf("%.1f x", r.xAlone), fmt.Sprintf("%.2f x", r.xLoaded)
		}
		p("| %s | %d | %.0f | %s | %s | %s | %s | %s | %s | %d | %s | %s | %s | %s |", r.name, r.s.requests(), r.rate(),
			ms(r.s.quantile(50)), ms(r.s.quantile(95)), ms(r.s.quantile(99)), ms(r.s.quantile(100)), statuses(r.s),
			ddb, r.keys, na(r.orders), na(r.charges), xa, xl)
	}
	p("")
	for _, r := range rep.results {
		p("- **%s**: %s.", r.name, r.about)
	}
	p("")
	p("Latency is measured by the client: from sending the request to reading the whole answer. " +
		"Percentiles come from an HdrHistogram (3 significant digits). DynamoDB requests are counted by an SDK " +
		"middleware on the API's client, retries included, from the first measured request to the last. " +
		"Orders are counted with a consistent Scan of the orders table before and after each scenario " +
		"(the replay scenario's preparation included), charges by the local payment provider; both must equal the " +
		"distinct keys, or loadgen exits 1.")
	p("")
	if len(rep.baseline) > 0 {
		p("### Baseline: a bare PutItem")
		p("")
		p("One PutItem of an idempotency-record-sized item on the API's own DynamoDB client, measured before, "+
			"between and after the scenarios (each ratio above divides by the mean of the phases either side of its scenario): "+
			"alone, one at a time; and loaded, %d at once like the clients.", rep.clients)
		p("")
		p("| phase | alone p50 | alone p99 | n | at %d p50 | at %d p99 | n |", rep.clients, rep.clients)
		p("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
		for _, b := range rep.baseline {
			p("| %s | %s | %s | %d | %s | %s | %d |", b.label, ms(b.alone), ms(b.aloneP99), b.aloneN, ms(b.loaded), ms(b.loadedP99), b.loadedN)
		}
		p("")
		p("The API's latency includes HTTP on loopback, JSON, the claim and the completion; on a machine with few " +
			"CPUs it also shares them with DynamoDB Local and the clients, so under load the ratio at the same concurrency " +
			"is the fairer one. One request at a time, without HTTP, the ratio is what `BenchmarkDynamoDB` " +
			"(internal/idem, the first half of `make bench`) prints as x-putitem.")
		p("")
	}
	if len(rep.sequential) > 0 {
		p("### One request at a time")
		p("")
		p("One client, each request preceded by a bare PutItem on the API's DynamoDB client (interleaved, so the " +
			"drift of a shared machine affects both alike): the latency of the API itself, without the queueing above.")
		p("")
		p("| path | requests | p50 | p99 | PutItem p50 | p50 / PutItem p50 | HTTP round trip p50 | (p50 - HTTP) / PutItem p50 | DynamoDB req / API req | distinct keys | orders | charges |")
		p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
		for _, s := range rep.sequential {
			h := s.http.quantile(50)
			p("| %s | %d | %s | %s | %s | %.2f x | %s | %.2f x | %.2f | %d | %d | %d |", s.name, s.api.requests(), ms(s.api.quantile(50)),
				ms(s.api.quantile(99)), ms(s.put.quantile(50)), s.ratio(), ms(h),
				float64(s.api.quantile(50)-h)/float64(s.put.quantile(50)),
				float64(s.ddb)/float64(s.api.requests()), s.keys, s.orders, s.charges)
		}
		for _, s := range rep.sequential {
			if s.cond != nil && s.cond.requests() > 0 {
				r := float64(s.api.quantile(50)) / float64(s.cond.quantile(50))
				verdict := "met"
				if r > 1.5 {
					verdict = "**missed**"
				}
				p("")
				p("Replay p50 / a failed conditional PutItem (ALL_OLD) of the replayed key's own record on the same client, "+
					"measured after each replay (%d): %s / %s = %.2f x: %s (≤ 1.5 x).", s.cond.requests(), ms(s.api.quantile(50)),
					ms(s.cond.quantile(50)), r, verdict)
			}
		}
		p("")
		p("The HTTP round trip is a GET of an unknown path on the same server, measured after each request: the " +
			"client, loopback, routing, the access log and a 404 problem, without DynamoDB. Subtracting it leaves what " +
			"the idempotency engine, the order and the payment add to the DynamoDB round trips.")
		p("")
		p("The first-time path makes three DynamoDB requests (the claim, a conditional PutItem of the record; the " +
			"reservation, one transaction of the order, created, and its stock takes; the completion, one transaction " +
			"of the record's answer and the order's outcome) and calls the payment provider (in process here); a " +
			"replay is the one losing claim, which returns the stored response (ALL_OLD).")
		p("")
	}
	if rep.peer != nil {
		writePeerMarkdown(p, rep.peer)
	}
	if rep.capacity != nil {
		writeCapacityMarkdown(p, rep.capacity, rep.peer)
	}
	if rep.storm != nil {
		writeStormMarkdown(p, rep.storm, rep.capacity)
	}
	if len(rep.warnings) > 0 {
		p("### Notes from this run")
		p("")
		ws := slices.Clone(rep.warnings)
		slices.Sort(ws)
		for _, w := range ws {
			p("- %s", w)
		}
		p("")
	}
	if rep.cold != nil {
		writeColdMarkdown(p, rep.cold)
	}
}

// buildFlags is how the cold start's bootstraps are built (coldstart.Build), as a command line.
func buildFlags() string {
	parts := []string{"CGO_ENABLED=0"}
	for _, f := range coldstart.BuildFlags {
		if strings.ContainsAny(f, " \t") {
			f = `"` + f + `"`
		}
		parts = append(parts, f)
	}
	return strings.Join(parts, " ")
}

func writeColdMarkdown(p func(string, ...any), c *coldReport) {
	p("## Cold start")
	p("")
	p("Each bootstrap is built with the Makefile's flags (`%s`) "+
		"for this machine (%s/%s), started as a process whose `AWS_LAMBDA_RUNTIME_API` is a fake Runtime API in loadgen, "+
		"and handed one event: a checkout with a new Idempotency-Key (claim, order, charge, completion), or a Stripe "+
		"webhook (payment_intent.succeeded) with a new event id, about an order the checkout cold starts created, "+
		"signed with the configured secret. **init** is process start to its first "+
		"`GET /runtime/invocation/next`; **first answer** is process start to its `POST .../response`, DynamoDB "+
		"Local round trips included. The Lambda service's own part (sandbox, code download) is not in these figures.", buildFlags(), c.goos, c.goarch)
	p("")
	p("| function | runs | init p50 | init max | first answer p50 | first answer max | statuses | peak RSS | %s/%s size | linux/arm64 size (deployed) |", c.goos, c.goarch)
	p("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
	var problems []string
	for _, f := range c.fns {
		if f.buildErr != nil {
			p("| %s | - | - | - | - | - | does not build | - | - | - |", f.name)
			problems = append(problems, fmt.Sprintf("%s does not build: %s", f.name, oneLine(f.buildErr.Error())))
			continue
		}
		s := f.summary
		st := make([]string, 0, len(s.Statuses))
		for code, n := range s.Statuses {
			st = append(st, fmt.Sprintf("%d x%d", code, n))
		}
		slices.Sort(st)
		p("| %s | %d | %s | %s | %s | %s | %s | %.1f MiB | %s | %s |", f.name, s.Runs, ms(s.InitMedian), ms(s.InitMax),
			ms(s.ResponseMedian), ms(s.ResponseMax), strings.Join(st, ", "), float64(s.MaxRSS)/(1<<20), mib(f.hostSize), mib(f.armSize))
		if f.runErr != nil {
			msg := fmt.Sprintf("%s failed after %d runs: %s", f.name, len(f.samples), oneLine(f.runErr.Error()))
			if f.lastLines != "" {
				msg += " (its last output: `" + oneLine(f.lastLines) + "`)"
			}
			problems = append(problems, msg)
		}
	}
	p("")
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	for _, f := range c.fns {
		if f.buildErr != nil || f.summary.Runs == 0 {
			continue
		}
		p("- %s: linux/arm64 bootstrap under 10 MB (%.2f MB): %s; init under %s (p50 %s; max %s): %s.", f.name,
			float64(f.armSize)/1e6, verdict(f.armSize > 0 && f.armSize < targetSize), targetInit, ms(f.summary.InitMedian),
			ms(f.summary.InitMax), verdict(f.summary.InitMedian < targetInit))
	}
	for _, f := range c.fns {
		if f.answer != "" {
			a := oneLine(f.answer)
			if len(a) > 200 {
				a = a[:200] + "..."
			}
			p("- %s's last answer: `%s`", f.name, a)
		}
	}
	for _, pr := range problems {
		p("- %s", pr)
	}
	p("")
}

func statuses(s *sample) string {
	codes := make([]int, 0, len(s.status))
	for c := range s.status {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d x%d", c, s.status[c]))
	}
	if s.errors > 0 {
		parts = append(parts, fmt.Sprintf("error x%d", s.errors))
	}
	return strings.Join(parts, ", ")
}

// mib is a binary size in MB (10^6 bytes, as the 10 MB target) and MiB.
func mib(n int64) string {
	if n <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f MB (%.1f MiB)", float64(n)/1e6, float64(n)/(1<<20))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cpuModel is ", <model name>" from /proc/cpuinfo, or "".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return " (" + strings.TrimSpace(v) + ")"
		}
	}
	return ""
}
