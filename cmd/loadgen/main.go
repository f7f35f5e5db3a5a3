// Command loadgen puts POST /checkout under load over real HTTP and publishes what it measured:
// requests per second, latency percentiles, DynamoDB requests per API request (counted by an SDK
// middleware), orders and charges created against distinct keys, and the ratio of latency to a
// bare PutItem round trip measured in the same run. Requests are paced, timed and summed up by
// vegeta (github.com/tsenart/vegeta/v12). With -coldstart it also times the Lambda bootstraps
// from process start to their first answer (package cmd/loadgen/coldstart). With -peer it runs
// the checkout side by side with the same job written with Powertools for AWS Lambda
// (bench/powertools), both as Lambda functions on one fake Runtime API; with -capacity it
// measures the consumed capacity of each operation (package capacity); with -storm-duplicates
// N it sends N concurrent duplicates of one key.
//
// It starts DynamoDB Local (or uses DYNAMODB_ENDPOINT), creates fresh tables and serves the
// local API (internal/localapi) in-process on loopback, with the local payment provider so
// charges can be counted. It writes <out>/REPORT.md, and exits 1 when a scenario created more
// or fewer orders or charges than it sent distinct keys, or a replay differed from the first
// answer.
//
//	go run ./cmd/loadgen -out bench -coldstart -peer -capacity -storm-duplicates 1000
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// options are the command-line flags.
type options struct {
	clients, requests, replayKeys, stormKeys, coldRuns, bigStorm          int
	duration, warmup, baseline, seqLen, peerDuration, peerSeq, peerWarmup time.Duration
	out, command                                                          string // command: the command line, for the report
	coldstart, peer, capacity                                             bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{command: "loadgen " + strings.Join(args, " ")}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.clients, "clients", 16, "concurrent HTTP clients")
	fs.DurationVar(&o.duration, "duration", 12*time.Second, "length of the unique and replay scenarios")
	fs.IntVar(&o.requests, "requests", 0, "requests per scenario instead of -duration (storm: -requests/-clients keys)")
	fs.DurationVar(&o.warmup, "warmup", 8*time.Second, "unmeasured load first (DynamoDB Local's JIT compiler needs a few thousand requests)")
	fs.DurationVar(&o.baseline, "baseline", 1500*time.Millisecond, "length of each bare PutItem baseline phase (before, between and after the scenarios)")
	fs.DurationVar(&o.seqLen, "sequential", 2*time.Second, "length of the one-request-at-a-time measurement of each path")
	fs.IntVar(&o.replayKeys, "replay-keys", 100, "keys completed before the replay scenario and then repeated")
	fs.IntVar(&o.stormKeys, "storm-keys", 40, "keys of the storm scenario, each sent by every client at once")
	fs.StringVar(&o.out, "out", "bench", "folder of REPORT.md")
	fs.BoolVar(&o.coldstart, "coldstart", false, "also build the Lambda bootstraps and time their cold starts")
	fs.IntVar(&o.coldRuns, "coldstart-runs", 10, "cold starts per function")
	fs.BoolVar(&o.peer, "peer", false, "also run the checkout side by side with the Powertools peer (bench/powertools, needs node and `make bench-deps`)")
	fs.DurationVar(&o.peerDuration, "peer-duration", 8*time.Second, "length of each concurrent phase of the side-by-side")
	fs.DurationVar(&o.peerSeq, "peer-sequential", 6*time.Second, "length of the one-request-at-a-time phase of the side-by-side")
	fs.DurationVar(&o.peerWarmup, "peer-warmup", 6*time.Second, "unmeasured load on each side first (the JIT compilers of Node and DynamoDB Local)")
	fs.BoolVar(&o.capacity, "capacity", false, "also measure the consumed capacity of each operation (checkout, replay, webhook, duplicate)")
	fs.IntVar(&o.bigStorm, "storm-duplicates", 0, "also send this many concurrent duplicates of one key through the HTTP handler (0: skip)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return o, cmp.Or(err, fmt.Errorf("unexpected arguments: %v", fs.Args()))
	}
	if o.clients < 1 || o.duration <= 0 || o.seqLen <= 0 || o.requests < 0 || o.replayKeys < 1 || o.stormKeys < 1 || o.coldRuns < 1 {
		return o, fmt.Errorf("-clients, -duration, -sequential, -replay-keys, -storm-keys and -coldstart-runs must be positive")
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err == flag.ErrHelp {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	rep, err := run(ctx, o, os.Stdout)
	if stop(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	for _, f := range rep.failures {
		fmt.Fprintln(os.Stderr, "loadgen: FAIL:", f)
	}
	os.Exit(min(len(rep.failures), 1))
}

// report is REPORT.md in the making: each phase writes its section when it has measured.
type report struct {
	o                    options
	log                  io.Writer
	load, peer, capacity md
	storm, cold          md
	// failures are broken promises (orders or charges other than distinct keys): exit 1
	failures []string
	// what a later section quotes: the peer's DynamoDB requests by path, the replay's WCU
	ptCalls   map[string]callStats
	replayWCU float64
}

func (r *report) fail(format string, a ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, a...))
}
func (r *report) logf(format string, a ...any) { fmt.Fprintf(r.log, format+"\n", a...) }

// run measures everything the options ask for and writes the report.
func run(ctx context.Context, o options, stdout io.Writer) (*report, error) {
	started, loadBefore := time.Now(), loadAverage()
	rep := &report{o: o, log: stdout}
	sys, err := newSystem(ctx, stdout)
	if err != nil {
		return nil, err
	}
	defer sys.close()
	for _, s := range []struct {
		on   bool
		name string
		f    func(context.Context, *system, *report) error
	}{{true, "load", runLoad}, {o.peer, "side by side", runPeer}, {o.capacity, "capacity", measureCapacity},
		{o.bigStorm > 0, "storm", runStorm}, {o.coldstart, "cold start", runColdstart}} {
		if !s.on {
			continue
		}
		if err := cmp.Or(s.f(ctx, sys, rep), ctx.Err()); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	var m md
	m.p("# Benchmark report: load, side by side with Powertools, capacity, storm, cold start\n")
	m.p("Written by `cmd/loadgen` (`make bench`); every figure below was measured in this run, on this machine.\n")
	m.table("ll", []string{"", ""},
		[]string{"date", fmt.Sprintf("%s (%s)", started.UTC().Format("2006-01-02 15:04 MST"), time.Since(started).Round(time.Second))},
		[]string{"command", "`" + o.command + "`"},
		[]string{"machine", fmt.Sprintf("%s/%s, %d CPUs%s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version())},
		[]string{"load average (1, 5, 15 min)", loadBefore + " before, " + loadAverage() + " after: the machine is shared, so other work competes for its CPUs"},
		[]string{"system under test", "in-process local API (internal/localapi, payment.Local) on loopback; " + sys.where},
		[]string{"clients", fmt.Sprintf("%d concurrent HTTP/1.1 clients, keep-alive, on loopback", o.clients)})
	if len(rep.failures) > 0 {
		m.p("**FAILED:**\n")
		m.list(rep.failures)
	}
	m.WriteString(rep.load.String() + rep.peer.String() + rep.capacity.String() + rep.storm.String() + rep.cold.String())
	path := filepath.Join(o.out, "REPORT.md")
	if err := errors.Join(os.MkdirAll(o.out, 0o755), os.WriteFile(path, []byte(m.String()), 0o644)); err != nil {
		return nil, err
	}
	rep.logf("wrote %s", path)
	return rep, nil
}

// md is Markdown text.
type md struct{ strings.Builder }

// p writes a line (a "\n" at the end of format makes a paragraph).
func (m *md) p(format string, a ...any) { fmt.Fprintf(m, format+"\n", a...) }

func (m *md) list(items []string) {
	for _, s := range items {
		m.p("- %s", s)
	}
	m.p("")
}

// table writes a table of a header and rows; align has one letter per column: l(eft) or r(ight).
func (m *md) table(align string, rows ...[]string) {
	line := func(cells []string) {
		for _, c := range cells {
			m.WriteString("|" + strings.TrimRight(" "+c, " ") + " ")
		}
		m.WriteString("|\n")
	}
	line(rows[0])
	line(strings.Split(strings.NewReplacer("l", "---,", "r", "---:,").Replace(align), ",")[:len(align)])
	for _, r := range rows[1:] {
		line(r)
	}
	m.p("")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// mib is a size in MB (10^6 bytes, as the 10 MB target) and MiB.
func mib(n int64) string {
	if n <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f MB (%.1f MiB)", float64(n)/1e6, float64(n)/(1<<20))
}

func x(a, b float64) string { return fmt.Sprintf("%.2f x", a/b) }

// loadAverage is /proc/loadavg's first three fields.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// cpuModel is " (<model name>)" from /proc/cpuinfo, or "".
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return " (" + strings.TrimSpace(v) + ")"
		}
	}
	return ""
}
