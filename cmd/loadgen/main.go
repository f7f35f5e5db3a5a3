// Command loadgen puts POST /checkout under load over real HTTP and publishes what it measured:
// requests per second, latency percentiles, DynamoDB requests per API request (counted by an SDK
// middleware), orders and charges created against distinct keys, and the ratio of latency to a
// bare PutItem round trip measured in the same run. With -coldstart it also times the Lambda
// bootstraps from process start to their first answer (package cmd/loadgen/coldstart). With -peer
// it runs the checkout side by side with the same job written with Powertools for AWS Lambda
// (bench/powertools), both as Lambda functions on one fake Runtime API; with -capacity it
// measures the consumed capacity of each operation (package capacity); with -storm-duplicates
// N it sends N concurrent duplicates of one key.
//
// By default it starts DynamoDB Local (or uses DYNAMODB_ENDPOINT), creates fresh tables and
// serves the local API (internal/localapi) in-process on loopback, with the local payment
// provider so charges can be counted. -target drives an API elsewhere instead; what only the
// in-process set-up can see is then reported as n/a.
//
// It writes <out>/REPORT.md, and exits 1 when a scenario created more or fewer orders or charges than it sent
// distinct keys, or a replay differed from the first answer.
//
//	go run ./cmd/loadgen -out bench -coldstart -peer -capacity -storm-duplicates 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

// options are the command-line flags.
type options struct {
	target     string
	clients    int
	duration   time.Duration
	requests   int
	warmup     time.Duration
	baseline   time.Duration
	sequential time.Duration
	replayKeys int
	stormKeys  int
	scenarios  []string
	out        string
	coldstart  bool
	coldRuns   int
	// the side-by-side with the Powertools peer, the capacity table and the 1,000-key storm
	peer         bool
	peerDuration time.Duration
	peerSeq      time.Duration
	peerWarmup   time.Duration
	capacity     bool
	bigStorm     int
	command      string // the command line, for the report
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{command: "loadgen " + strings.Join(args, " ")}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.target, "target", "", "base URL of an API to drive instead of the in-process one (DynamoDB, order and charge counts are then n/a)")
	fs.IntVar(&o.clients, "clients", 16, "concurrent HTTP clients")
	fs.DurationVar(&o.duration, "duration", 12*time.Second, "length of the unique and replay scenarios")
	fs.IntVar(&o.requests, "requests", 0, "requests per scenario instead of -duration (storm: -requests/-clients keys)")
	fs.DurationVar(&o.warmup, "warmup", 8*time.Second, "unmeasured load first (DynamoDB Local's JIT compiler needs a few thousand requests)")
	fs.DurationVar(&o.baseline, "baseline", 1500*time.Millisecond, "length of each bare PutItem baseline phase (before, between and after the scenarios)")
	fs.DurationVar(&o.sequential, "sequential", 2*time.Second, "length of the one-request-at-a-time measurement of each path (0: skip)")
	fs.IntVar(&o.replayKeys, "replay-keys", 100, "keys completed before the replay scenario and then repeated")
	fs.IntVar(&o.stormKeys, "storm-keys", 40, "keys of the storm scenario, each sent by every client at once")
	scen := fs.String("scenarios", "unique,replay,storm", "scenarios to run, comma-separated")
	fs.StringVar(&o.out, "out", "bench", "folder of REPORT.md")
	fs.BoolVar(&o.coldstart, "coldstart", false, "also build the Lambda bootstraps and time their cold starts")
	fs.IntVar(&o.coldRuns, "coldstart-runs", 10, "cold starts per function")
	fs.BoolVar(&o.peer, "peer", false, "also run the checkout side by side with the Powertools peer (bench/powertools, needs node and `make bench-deps`)")
	fs.DurationVar(&o.peerDuration, "peer-duration", 8*time.Second, "length of each concurrent phase of the side-by-side")
	fs.DurationVar(&o.peerSeq, "peer-sequential", 6*time.Second, "length of the one-request-at-a-time phase of the side-by-side")
	fs.DurationVar(&o.peerWarmup, "peer-warmup", 6*time.Second, "unmeasured load on each side first (the JIT compilers of Node and DynamoDB Local)")
	fs.BoolVar(&o.capacity, "capacity", false, "also measure the consumed capacity of each operation (checkout, replay, webhook, duplicate)")
	fs.IntVar(&o.bigStorm, "storm-duplicates", 0, "also send this many concurrent duplicates of one key through the HTTP handler (0: skip)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.clients < 1 || o.duration <= 0 || o.requests < 0 || o.replayKeys < 1 || o.stormKeys < 1 || o.coldRuns < 1 {
		return o, fmt.Errorf("-clients, -duration, -replay-keys, -storm-keys and -coldstart-runs must be positive")
	}
	for _, s := range strings.Split(*scen, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if _, ok := scenarios[s]; !ok {
			return o, fmt.Errorf("unknown scenario %q (want unique, replay, storm)", s)
		}
		o.scenarios = append(o.scenarios, s)
	}
	if len(o.scenarios) == 0 {
		return o, fmt.Errorf("-scenarios names none")
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
	defer stop()
	rep, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	if len(rep.Failures) > 0 {
		for _, f := range rep.Failures {
			fmt.Fprintln(os.Stderr, "loadgen: FAIL:", f)
		}
		os.Exit(1)
	}
}
