package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/cmd/loadgen/capacity"
	"github.com/checkout-idem/checkout/cmd/loadgen/coldstart"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
)

// peerSlices is how many turns each side takes under load: short alternating slices, so the
// drift of a shared machine falls on both sides alike.
const peerSlices = 4

// peerDir is the Powertools peer, relative to the module root.
const peerDir = "bench/powertools"

// Paths of a checkout measured side by side.
const (
	pathFirst  = "first"
	pathReplay = "replay"
)

// peerSide is one function of the side-by-side and what was measured of it.
type peerSide struct {
	name, about         string
	pool                *pool
	idemTable, orders   string
	seq, con            map[string]*sample       // latency by path: one at a time, 16 at once
	conElapsed          map[string]time.Duration // length of each concurrent phase
	ids                 map[string][]string      // Lambda request ids by path (measured ones)
	keys                atomic.Int64             // distinct keys sent (warm-up included)
	ordersMade, charges int64
	replayBody          []byte
	mismatches          atomic.Int64 // replays whose body differed from the first answer
	calls               map[string]callStats
	inits               []time.Duration
	rss                 int64
}

// callStats are the DynamoDB requests of the invocations of one path.
type callStats struct {
	invocations, requests int
	rcu, wcu              float64
	computed              int // requests whose units were computed from the rules
	returned              int // requests for which DynamoDB returned consumed capacity
}

// peerReport is the side-by-side section of the report.
type peerReport struct {
	sides                []*peerSide
	clients              int
	seqLength, conLength time.Duration
	warmup               time.Duration // unmeasured load on each side, before each phase
	nodeVersion          string
	packages             string
	warnings, failures   []string
}

// The provider keys of each side: the Go function sends "checkout-" and the scoped key (hex),
// the peer "checkout-" and its order id.
func isPeerKey(k string) bool { return strings.HasPrefix(k, "checkout-ord_") }
func isGoKey(k string) bool   { return !isPeerKey(k) }

// peerPackages lists the npm packages of the peer with the versions its package-lock.json pins.
func peerPackages(dir string) string {
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil || json.Unmarshal(b, &lock) != nil {
		return "?"
	}
	var out []string
	for _, name := range []string{"@aws-lambda-powertools/idempotency", "@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb", "@aws-sdk/util-dynamodb"} {
		out = append(out, name+"@"+lock.Packages["node_modules/"+name].Version)
	}
	return strings.Join(out, ", ")
}

// runPeer starts both functions as pools of o.clients execution environments and measures
// them one request at a time (interleaved) and under o.clients concurrent clients.
func runPeer(ctx context.Context, sys *system, o options, log io.Writer) (*peerReport, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("peer: node is required for the Powertools peer: %w", err)
	}
	if _, err := os.Stat(filepath.Join(root, peerDir, "node_modules", "@aws-lambda-powertools", "idempotency")); err != nil {
		return nil, fmt.Errorf("peer: %s/node_modules is missing: run `make bench-deps` (npm ci)", peerDir)
	}
	stripe, err := startFakeStripe()
	if err != nil {
		return nil, err
	}
	defer stripe.close()
	dir, err := os.MkdirTemp("", "loadgen-peer-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bootstrap")
	fmt.Fprintln(log, "side by side: building the Go function, starting both pools ...")
	if _, err := coldstart.Build(ctx, root, "./cmd/loadgen/checkoutfn", runtime.GOOS, runtime.GOARCH, bin); err != nil {
		return nil, err
	}
	run := randomID()
	goSide := &peerSide{name: "checkout-idem (Go)", about: "functions/checkout's wiring (cmd/loadgen/checkoutfn), aws-lambda-go runtime client",
		idemTable: "peer-" + run + "-go-idem", orders: "peer-" + run + "-go-orders"}
	ptSide := &peerSide{name: "Powertools (Node)", about: "bench/powertools/handler.mjs, makeIdempotent + DynamoDBPersistenceLayer, runtime.mjs runtime client",
		idemTable: "peer-" + run + "-pt-idem", orders: "peer-" + run + "-pt-orders"}
	tables := []ddb.Table{idem.Table(goSide.idemTable), orders.Table(goSide.orders),
		{Name: ptSide.idemTable, PartitionKey: "id", TTLAttribute: "expiration"}, orders.Table(ptSide.orders)}
	for _, t := range tables {
		if err := ddb.Ensure(ctx, sys.ddb, t); err != nil {
			return nil, err
		}
	}
	defer dropTables(sys.ddb, goSide.idemTable, goSide.orders, ptSide.idemTable, ptSide.orders)
	base := []string{"PATH=" + os.Getenv("PATH"), "TZ=:UTC", "LANG=C.UTF-8", "HOME=" + dir,
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"AWS_ENDPOINT_URL_DYNAMODB=" + sys.endpoint, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"STRIPE_SECRET_KEY=sk_test_bench", "STRIPE_API_BASE=" + stripe.url, "LOG_LEVEL=info"}
	goEnv := append(base[:len(base):len(base)], "AWS_LAMBDA_FUNCTION_NAME=checkout-go", "_HANDLER=bootstrap",
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		config.EnvDynamoDBEndpoint+"="+sys.endpoint,
		config.EnvIdempotencyTable+"="+goSide.idemTable, config.EnvOrdersTable+"="+goSide.orders,
		config.EnvCatalogTable+"="+sys.cfg.CatalogTable) // loaded with benchCatalog by setup
	ptEnv := append(base[:len(base):len(base)], "AWS_LAMBDA_FUNCTION_NAME=checkout-powertools", "_HANDLER=handler.mjs",
		"AWS_EXECUTION_ENV=AWS_Lambda_nodejs20.x", "NODE_ENV=production", "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1",
		"IDEMPOTENCY_TABLE="+ptSide.idemTable, "ORDERS_TABLE="+ptSide.orders)
	// One execution environment each for the one-at-a-time phase (as Lambda reuses a warm one
	// for sequential requests); peerMeasure grows them to o.clients for the concurrent phase.
	if goSide.pool, err = startPool(ctx, "Go function", 1, []string{bin}, dir, goEnv); err != nil {
		return nil, err
	}
	defer goSide.pool.stop()
	if ptSide.pool, err = startPool(ctx, "Powertools function", 1, []string{node, "runtime.mjs"}, filepath.Join(root, peerDir), ptEnv); err != nil {
		return nil, err
	}
	defer ptSide.pool.stop()

	rep := &peerReport{sides: []*peerSide{goSide, ptSide}, clients: o.clients, seqLength: o.peerSeq, conLength: o.peerDuration, warmup: o.peerWarmup}
	rep.nodeVersion = commandOutput(node, "--version")
	rep.packages = peerPackages(filepath.Join(root, peerDir))
	template, err := os.ReadFile(filepath.Join(root, "events", "checkout.json"))
	if err != nil {
		return nil, err
	}
	for _, s := range rep.sides {
		s.seq, s.con, s.conElapsed, s.ids = map[string]*sample{}, map[string]*sample{}, map[string]time.Duration{}, map[string][]string{}
	}
	event, err := checkoutEvents(template)
	if err != nil {
		return nil, err
	}
	if err := peerMeasure(ctx, rep, o, event, run, log); err != nil {
		return nil, err
	}
	for _, s := range rep.sides {
		s.pool.stop()
		s.inits, s.rss = s.pool.inits, s.pool.peakRSS()
		s.calls = map[string]callStats{}
		for path, ids := range s.ids {
			s.calls[path] = summarizeCalls(s.pool.callsOf(ids), len(ids))
		}
		if n := s.pool.unattributed(); n > 0 {
			rep.warnings = append(rep.warnings, fmt.Sprintf("%s: %d DynamoDB requests without an invocation id", s.name, n))
		}
		n, err := countItems(ctx, sys.ddb, s.orders)
		if err != nil {
			return nil, err
		}
		s.ordersMade = int64(n)
	}
	goSide.charges = int64(stripe.Created(isGoKey))
	ptSide.charges = int64(stripe.Created(isPeerKey))
	for _, s := range rep.sides {
		if k := s.keys.Load(); s.ordersMade != k || s.charges != k {
			rep.failures = append(rep.failures, fmt.Sprintf("side by side, %s: %d distinct keys made %d orders and %d charges", s.name, k, s.ordersMade, s.charges))
		}
		if n := s.mismatches.Load(); n > 0 {
			rep.failures = append(rep.failures, fmt.Sprintf("side by side, %s: %d replays differ from the first answer", s.name, n))
		}
	}
	return rep, nil
}

// peerMeasure runs the warm-up, the one-at-a-time and the concurrent phases.
func peerMeasure(ctx context.Context, rep *peerReport, o options, event func(key string) []byte, run string, log io.Writer) error {
	var seq atomic.Int64
	newKey := func(s *peerSide, label string) string {
		s.keys.Add(1)
		return fmt.Sprintf("%s-%s-%s-%d", run, s.pool.name[:2], label, seq.Add(1))
	}
	call := func(s *peerSide, key string, want []byte) (coldstart.Response, time.Duration, error) {
		resp, d, err := s.pool.invoke(ctx, event(key))
		if err != nil {
			return resp, d, fmt.Errorf("%s: %w", s.name, err)
		}
		if resp.Error || answerStatus(resp.Body) != 201 {
			return resp, d, fmt.Errorf("%s answered %s", s.name, bytes.TrimSpace(resp.Body))
		}
		if want != nil && !bytes.Equal(answeredBody(resp.Body), want) {
			s.mismatches.Add(1)
		}
		return resp, d, nil
	}
	// Each side's replay key, completed before anything is measured.
	replayKey := map[*peerSide]string{}
	for _, s := range rep.sides {
		replayKey[s] = newKey(s, "replay")
		resp, _, err := call(s, replayKey[s], nil)
		if err != nil {
			return err
		}
		s.replayBody = answeredBody(resp.Body)
	}
	concurrent := func(s *peerSide, path string, length time.Duration, record bool) error {
		smp := newSample()
		var mu sync.Mutex
		var firstErr error
		var wg sync.WaitGroup
		deadline := time.Now().Add(length)
		start := time.Now()
		for range rep.clients {
			wg.Go(func() {
				local := newSample()
				for time.Now().Before(deadline) && ctx.Err() == nil {
					key, want := replayKey[s], s.replayBody
					if path == pathFirst {
						key, want = newKey(s, "first"), nil
					}
					_, d, err := call(s, key, want)
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						return
					}
					_ = local.hist.RecordValue(max(d.Microseconds(), 1))
				}
				mu.Lock()
				smp.merge(local)
				mu.Unlock()
			})
		}
		wg.Wait()
		if record {
			if s.con[path] == nil {
				s.con[path] = newSample()
			}
			s.con[path].merge(smp)
			s.conElapsed[path] += time.Since(start)
		}
		return firstErr
	}
	oneAtATime := func(length time.Duration, measure bool) error {
		for i, end := 0, time.Now().Add(length); time.Now().Before(end) && ctx.Err() == nil; i++ {
			for j := range rep.sides {
				s := rep.sides[(i+j)%len(rep.sides)] // alternate which side goes first
				for _, path := range []string{pathFirst, pathReplay} {
					key, want := replayKey[s], s.replayBody
					if path == pathFirst {
						key, want = newKey(s, "seq"), nil
					}
					resp, d, err := call(s, key, want)
					if err != nil {
						return err
					}
					if measure {
						_ = s.seq[path].hist.RecordValue(max(d.Microseconds(), 1))
						s.ids[path] = append(s.ids[path], resp.RequestID)
					}
				}
			}
		}
		return ctx.Err()
	}
	fmt.Fprintf(log, "side by side: one execution environment each, warming up for %s ...\n", o.peerWarmup)
	if err := oneAtATime(o.peerWarmup, false); err != nil {
		return err
	}
	fmt.Fprintf(log, "side by side: one request at a time, interleaved, %s ...\n", o.peerSeq)
	for _, s := range rep.sides {
		s.seq[pathFirst], s.seq[pathReplay] = newSample(), newSample()
	}
	if err := oneAtATime(o.peerSeq, true); err != nil {
		return err
	}
	fmt.Fprintf(log, "side by side: %d execution environments each, warming up for %s per side ...\n", rep.clients, o.peerWarmup)
	for _, s := range rep.sides {
		if err := s.pool.grow(ctx, rep.clients); err != nil {
			return err
		}
		for _, path := range []string{pathFirst, pathReplay} {
			if err := concurrent(s, path, o.peerWarmup/2, false); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(log, "side by side: %d concurrent clients, %s per side and path in %d alternating slices ...\n", rep.clients, o.peerDuration, peerSlices)
	for i := range peerSlices {
		for _, path := range []string{pathFirst, pathReplay} {
			for j := range rep.sides {
				s := rep.sides[(i+j)%len(rep.sides)]
				if err := concurrent(s, path, o.peerDuration/peerSlices, true); err != nil {
					return err
				}
			}
		}
	}
	return ctx.Err()
}

// checkoutEvents parses the events/checkout.json template once and returns a function that
// writes it with an Idempotency-Key (as checkoutEventWithKey does), without parsing or
// marshalling the template again.
func checkoutEvents(template []byte) (func(key string) []byte, error) {
	const mark = "loadgen-idempotency-key-mark"
	ev, err := checkoutEventWithKey(template, mark)
	if err != nil {
		return nil, err
	}
	quoted := []byte(`"` + mark + `"`)
	if n := bytes.Count(ev, quoted); n != 1 {
		return nil, fmt.Errorf("events/checkout.json: the key's mark appears %d times", n)
	}
	before, after, _ := bytes.Cut(ev, quoted)
	return func(key string) []byte {
		k, _ := json.Marshal(key)
		return slices.Concat(before, k, after)
	}, nil
}

func summarizeCalls(calls []capacity.Call, invocations int) callStats {
	cs := callStats{invocations: invocations, requests: len(calls)}
	for _, c := range calls {
		r, w, computed := c.Units()
		cs.rcu, cs.wcu = cs.rcu+r, cs.wcu+w
		if computed {
			cs.computed++
		} else {
			cs.returned++
		}
	}
	return cs
}

// per returns v per invocation.
func (c callStats) per(v float64) float64 {
	if c.invocations == 0 {
		return 0
	}
	return v / float64(c.invocations)
}

func answerStatus(resp []byte) int {
	var r struct {
		StatusCode int `json:"statusCode"`
	}
	_ = json.Unmarshal(resp, &r)
	return r.StatusCode
}

// countItems counts a table's items with a consistent Scan.
func countItems(ctx context.Context, c *dynamodb.Client, table string) (int, error) {
	n := 0
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		n += int(out.Count)
	}
	return n, nil
}

func commandOutput(name string, args ...string) string {
	b, err := exec.Command(name, args...).Output()
	if err != nil {
		return "?"
	}
	return string(bytes.TrimSpace(b))
}
