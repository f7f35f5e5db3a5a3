package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/checkout-idem/checkout/cmd/loadgen/coldstart"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/ddb/capacity"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// Side by side: each side takes peerSlices turns under load (short alternating slices, so the
// drift of a shared machine falls on both alike); the targets are ratios of our p50 to the
// peer's (issue #21).
const (
	peerSlices   = 4
	peerDir      = "bench/powertools"
	pathFirst    = "first request"
	pathReplay   = "replay"
	targetFirst  = 0.7
	targetReplay = 0.8
)

var paths = []string{pathFirst, pathReplay}

// peerSide is one function of the side-by-side and what was measured of it.
type peerSide struct {
	name, about string
	argv, env   []string
	dir         string
	pool        *coldstart.Pool
	invoke      *http.Client
	event       func(key string) []byte
	seq, con    map[string]*vegeta.Metrics // by path: one at a time, o.clients at once
	conTime     map[string]time.Duration   // length of the concurrent phases
	ids         map[string][]string        // Lambda request ids of the measured invocations
	keys, bad   atomic.Int64               // distinct keys sent; answers not 201 or replays not identical
	replayKey   string
	replayBody  []byte
	mu          sync.Mutex
	calls       map[string][]capacity.Call // by Lambda request id
	stats       map[string]callStats
	rss         int64
	orders      int
	charges     int
}

// callStats are the DynamoDB requests of the invocations of one path.
type callStats struct {
	invocations, requests int
	rcu, wcu              float64
	computed, returned    int // requests whose units were computed from the rules, or returned
}

func summarizeCalls(calls []capacity.Call, invocations int) callStats {
	cs := callStats{invocations: max(invocations, 1), requests: len(calls)}
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
func (c callStats) per(v float64) float64 { return v / float64(c.invocations) }

// line keeps a capacity.Call line of the function's standard error.
func (s *peerSide) line(l string) bool {
	rest, ok := strings.CutPrefix(l, capacity.LinePrefix)
	var c capacity.Call
	if ok && json.Unmarshal([]byte(rest), &c) == nil {
		s.mu.Lock()
		s.calls[c.RequestID] = append(s.calls[c.RequestID], c)
		s.mu.Unlock()
	}
	return ok
}

// client invokes the function: the request's Idempotency-Key goes into the event; the answer's
// status and body come back, with its invocation id in Request-Id.
func (s *peerSide) client(ctx context.Context) *http.Client {
	return fnClient(func(r *http.Request) (*http.Response, error) {
		resp, err := s.pool.Invoke(ctx, s.event(r.Header.Get(idem.KeyHeader)))
		if err != nil {
			return nil, err
		}
		code, body := answered(resp.Body)
		if resp.Error {
			code = http.StatusBadGateway
		}
		return answer(code, body, http.Header{"Request-Id": {resp.RequestID}}), nil
	}).client()
}

// target is a first request with a new key, or a replay of the side's replay key.
func (s *peerSide) target(path string) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		key := s.replayKey
		if path == pathFirst {
			key = fmt.Sprintf("%s-%d", s.replayKey, s.keys.Add(1))
		}
		*t = vegeta.Target{Method: http.MethodPost, URL: "http://lambda/", Header: http.Header{idem.KeyHeader: {key}}}
		return nil
	}
}

// check counts a bad answer (not 201, or a replay unlike the first answer) and, when into is
// not nil, adds the result to it; the DynamoDB requests are those of the invocations one at a
// time (ids), as the execution environments of the concurrent phase start with a cold cache.
func (s *peerSide) check(path string, into *vegeta.Metrics, ids bool) func(*vegeta.Result) {
	return func(r *vegeta.Result) {
		if r.Code != http.StatusCreated || (path == pathReplay && !bytes.Equal(r.Body, s.replayBody)) {
			s.bad.Add(1)
		}
		if into != nil {
			into.Add(r)
		}
		if ids {
			s.ids[path] = append(s.ids[path], r.Headers.Get("Request-Id"))
		}
	}
}

// runPeer starts both functions as pools of execution environments and measures them one
// request at a time (interleaved) and under o.clients concurrent clients.
func runPeer(ctx context.Context, sys *system, rep *report) error {
	o := rep.o
	root := sys.root
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("node is required for the Powertools peer: %w", err)
	}
	if _, err := os.Stat(filepath.Join(root, peerDir, "node_modules", "@aws-lambda-powertools", "idempotency")); err != nil {
		return fmt.Errorf("%s/node_modules is missing: run `make bench-deps` (npm ci)", peerDir)
	}
	stripe := startFakeStripe()
	defer stripe.Close()
	dir, err := os.MkdirTemp("", "loadgen-peer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rep.logf("side by side: building the Go function, starting both pools ...")
	bin := filepath.Join(dir, "bootstrap")
	if _, err := coldstart.Build(ctx, root, "./cmd/loadgen/checkoutfn", runtime.GOOS, runtime.GOARCH, bin); err != nil {
		return err
	}
	template, err := sys.event("checkout.json")
	event, err := checkoutEvents(template, err)
	if err != nil {
		return err
	}
	run := "peer-" + randomID()
	g := &peerSide{name: "checkout-idem (Go)", about: "functions/checkout's wiring (cmd/loadgen/checkoutfn), aws-lambda-go runtime client"}
	pt := &peerSide{name: "Powertools (Node)", about: "bench/powertools/handler.mjs, makeIdempotent + DynamoDBPersistenceLayer, runtime.mjs runtime client"}
	tables := []ddb.Table{idem.Table(run + "-go-idem"), orders.Table(run + "-go-orders"),
		{Name: run + "-pt-idem", PartitionKey: "id", TTLAttribute: "expiration"}, orders.Table(run + "-pt-orders")}
	for _, t := range tables {
		if err := ddb.Ensure(ctx, sys.ddb, t); err != nil {
			return err
		}
		defer dropTables(sys.ddb, t.Name)
	}
	base := append(lambdaEnv(), "HOME="+dir, "AWS_ENDPOINT_URL_DYNAMODB="+sys.endpoint, "STRIPE_SECRET_KEY=sk_test_bench", "STRIPE_API_BASE="+stripe.URL, "LOG_LEVEL=info")
	g.argv, g.dir, g.env = []string{bin}, dir, append(base[:len(base):len(base)], "AWS_LAMBDA_FUNCTION_NAME=checkout-go", "_HANDLER=bootstrap",
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023", config.EnvDynamoDBEndpoint+"="+sys.endpoint, config.EnvIdempotencyTable+"="+tables[0].Name,
		config.EnvOrdersTable+"="+tables[1].Name, config.EnvCatalogTable+"="+sys.cfg.CatalogTable) // benchCatalog
	pt.argv, pt.dir, pt.env = []string{node, "runtime.mjs"}, filepath.Join(root, peerDir), append(base, "AWS_LAMBDA_FUNCTION_NAME=checkout-powertools",
		"_HANDLER=handler.mjs", "AWS_EXECUTION_ENV=AWS_Lambda_nodejs20.x", "NODE_ENV=production", "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1",
		"IDEMPOTENCY_TABLE="+tables[2].Name, "ORDERS_TABLE="+tables[3].Name)
	sides := []*peerSide{g, pt}
	for i, s := range sides {
		s.event, s.replayKey, s.calls, s.ids, s.conTime = event, fmt.Sprintf("%s-%d", run, i), map[string][]capacity.Call{}, map[string][]string{}, map[string]time.Duration{}
		s.seq = map[string]*vegeta.Metrics{pathFirst: {}, pathReplay: {}}
		s.con = map[string]*vegeta.Metrics{pathFirst: {}, pathReplay: {}}
		// One execution environment for the one-at-a-time phase (as Lambda reuses a warm one for
		// sequential requests); grown to o.clients for the concurrent phase.
		if s.pool, err = coldstart.StartPool(ctx, 1, s.argv, s.dir, s.env, s.line); err != nil {
			return err
		}
		defer s.pool.Stop()
		s.invoke = s.client(ctx)
		r := hit(ctx, s.invoke, vegeta.Target{Method: http.MethodPost, URL: "http://lambda/", Header: http.Header{idem.KeyHeader: {s.replayKey}}})
		if r.Code != http.StatusCreated {
			return fmt.Errorf("%s answered %d %s %s", s.name, r.Code, r.Error, r.Body)
		}
		s.replayBody = r.Body
		s.keys.Add(1)
	}
	oneAtATime := func(length time.Duration, measure bool) {
		for i, end := 0, time.Now().Add(length); time.Now().Before(end) && ctx.Err() == nil; i++ {
			for j := range sides {
				s := sides[(i+j)%len(sides)] // alternate which side goes first
				for _, path := range paths {
					var t vegeta.Target
					_ = s.target(path)(&t)
					into := s.seq[path]
					if !measure {
						into = nil
					}
					s.check(path, into, measure)(hit(ctx, s.invoke, t))
				}
			}
		}
	}
	rep.logf("side by side: one execution environment each, warming up for %s, then one request at a time for %s ...", o.peerWarmup, o.peerSeq)
	oneAtATime(o.peerWarmup, false)
	oneAtATime(o.peerSeq, true)
	rep.logf("side by side: %d execution environments each, warming up for %s per side, then %s per side and path in %d slices ...",
		o.clients, o.peerWarmup, o.peerDuration, peerSlices)
	for _, s := range sides {
		if err := s.pool.Grow(ctx, o.clients); err != nil {
			return err
		}
		for _, path := range paths {
			attack(ctx, s.invoke, o.clients, 0, o.peerWarmup/2, s.target(path), s.check(path, nil, false))
		}
	}
	for i := range peerSlices {
		for _, path := range paths {
			for j := range sides {
				s := sides[(i+j)%len(sides)]
				s.conTime[path] += attack(ctx, s.invoke, o.clients, 0, o.peerDuration/peerSlices, s.target(path), s.check(path, s.con[path], false))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, s := range sides {
		s.rss = s.pool.Stop()
		s.stats = map[string]callStats{}
		for _, path := range paths {
			s.seq[path].Close()
			s.con[path].Close()
			var calls []capacity.Call
			for _, id := range s.ids[path] {
				calls = append(calls, s.calls[id]...)
			}
			s.stats[path] = summarizeCalls(calls, len(s.ids[path]))
		}
		if s.orders, err = testenv.ScanCount(ctx, sys.ddb, tables[2*i+1].Name); err != nil {
			return err
		}
		// The provider keys: the Go function's "checkout-" and the scoped key (hex), the peer's
		// "checkout-" and its order id.
		s.charges = stripe.created(func(k string) bool { return strings.HasPrefix(k, "checkout-ord_") == (s == pt) })
		if k := int(s.keys.Load()); s.orders != k || s.charges != k {
			rep.fail("side by side, %s: %d distinct keys made %d orders and %d charges", s.name, k, s.orders, s.charges)
		}
		if n := s.bad.Load(); n > 0 {
			rep.fail("side by side, %s: %d answers not 201 or replays unlike the first answer", s.name, n)
		}
	}
	rep.ptCalls = pt.stats
	nodeVersion, _ := exec.Command(node, "--version").Output()
	writePeer(rep, g, pt, string(bytes.TrimSpace(nodeVersion)), peerPackages(filepath.Join(root, peerDir)))
	return nil
}

func writePeer(rep *report, g, pt *peerSide, nodeVersion, packages string) {
	o, m := rep.o, &rep.peer
	m.p("## Side by side with Powertools for AWS Lambda\n")
	m.p("The same checkout job twice, each run as a Lambda function the same way: %d execution environments (processes) per function, started one after the other against a fake Lambda Runtime API (cmd/loadgen/coldstart) that hands each event to one waiting process, on the same DynamoDB Local, charging the same fake Stripe (one endpoint, `POST /v1/payment_intents`, with Stripe's idempotency; it counts PaymentIntents).\n", o.clients)
	m.list([]string{"**" + g.name + "**: " + g.about + ".", "**" + pt.name + "**: " + pt.about + ".",
		fmt.Sprintf("Peer packages (pinned in bench/powertools/package-lock.json): %s; Node %s. The Go function talks to the Runtime API through aws-lambda-go; the Node function through bench/powertools/runtime.mjs, a 60-line loop over the same API (GET next, POST response or error), as the npm `aws-lambda-ric` needs a native build.", packages, nodeVersion),
		"Every DynamoDB request of both functions passes through the same instrumentation (an SDK middleware that sets `ReturnConsumedCapacity=TOTAL` and writes one line per request), so requests and units are counted, not assumed."})
	rows := [][]string{{"", g.name, pt.name, "ours / peer"}}
	row := func(label string, f func(s *peerSide) float64, format func(float64) string, target float64) {
		a, b := f(g), f(pt)
		v := "–"
		if target > 0 {
			v = verdict(a, b, target)
		} else if b > 0 {
			v = x(a, b)
		}
		rows = append(rows, []string{label, format(a), format(b), v})
	}
	msf := func(v float64) string { return ms(time.Duration(v)) }
	num := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	for _, path := range paths {
		row(path+" p50, one at a time", func(s *peerSide) float64 { return float64(s.seq[path].Latencies.P50) }, msf,
			map[string]float64{pathFirst: targetFirst, pathReplay: targetReplay}[path])
		row(path+" p99, one at a time", func(s *peerSide) float64 { return float64(s.seq[path].Latencies.P99) }, msf, 0)
	}
	for _, path := range paths {
		clients := fmt.Sprintf(", %d clients", o.clients)
		row(path+" p50"+clients, func(s *peerSide) float64 { return float64(s.con[path].Latencies.P50) }, msf, 0)
		row(path+" p99"+clients, func(s *peerSide) float64 { return float64(s.con[path].Latencies.P99) }, msf, 0)
		row(map[string]string{pathFirst: "first requests", pathReplay: "replays"}[path]+" per second"+clients,
			func(s *peerSide) float64 { return perSecond(s.con[path].Requests, s.conTime[path]) }, func(v float64) string { return fmt.Sprintf("%.0f", v) }, 0)
	}
	for _, path := range paths {
		row("DynamoDB requests per "+path, func(s *peerSide) float64 { c := s.stats[path]; return c.per(float64(c.requests)) }, num, 0)
		row("write units per "+path, func(s *peerSide) float64 { c := s.stats[path]; return c.per(c.wcu) }, num, 0)
		row("read units per "+path, func(s *peerSide) float64 { c := s.stats[path]; return c.per(c.rcu) }, num, 0)
	}
	row("peak memory (largest VmHWM of the processes)", func(s *peerSide) float64 { return float64(s.rss) }, func(v float64) string { return mib(int64(v)) }, 0)
	inits := func(s *peerSide) *vegeta.Metrics { return durations(s.pool.Inits) }
	row("cold init p50 (process start to first GET next)", func(s *peerSide) float64 { return float64(inits(s).Latencies.P50) }, msf, 0)
	row("cold init max", func(s *peerSide) float64 { return float64(inits(s).Latencies.Max) }, msf, 0)
	rows = append(rows, []string{"distinct keys / orders / PaymentIntents", fmt.Sprintf("%d / %d / %d", g.keys.Load(), g.orders, g.charges),
		fmt.Sprintf("%d / %d / %d", pt.keys.Load(), pt.orders, pt.charges), "–"})
	m.table("lrrl", rows...)
	req := func(s *peerSide, path string) float64 { c := s.stats[path]; return c.per(float64(c.requests)) }
	m.p("Targets: first request p50 ≤ %.1f x the peer's: %s; replay p50 ≤ %.1f x: %s; no more DynamoDB requests than the peer on either path (%.2f vs %.2f first, %.2f vs %.2f replay): %s.\n", targetFirst,
		verdict(float64(g.seq[pathFirst].Latencies.P50), float64(pt.seq[pathFirst].Latencies.P50), targetFirst), targetReplay,
		verdict(float64(g.seq[pathReplay].Latencies.P50), float64(pt.seq[pathReplay].Latencies.P50), targetReplay),
		req(g, pathFirst), req(pt, pathFirst), req(g, pathReplay), req(pt, pathReplay),
		met(req(g, pathFirst) <= req(pt, pathFirst) && req(g, pathReplay) <= req(pt, pathReplay)))
	m.p("One at a time: %s of alternating requests (the two functions take turns, each a first request then a replay of a key completed before the measurement), after %s of unmeasured load on each side (Node's and DynamoDB Local's JIT compilers). Under load: %d clients (vegeta, a closed loop) for %s per side and path, in %d slices, the sides taking turns. Latency is the harness's: from handing the event to the Runtime API to the function's answer, DynamoDB Local round trips included. Every replay is checked byte for byte against the first answer of its key.\n",
		o.peerSeq, o.peerWarmup, o.clients, o.peerDuration, peerSlices)
}

// durations sums d up as vegeta metrics (latencies).
func durations(d []time.Duration) *vegeta.Metrics {
	m := &vegeta.Metrics{}
	for _, v := range d {
		m.Add(&vegeta.Result{Latency: v})
	}
	return closed(m)
}

// verdict says whether ours/peer <= target.
func verdict(ours, peer, target float64) string {
	if peer <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f x: %s (≤ %.1f x)", ours/peer, met(ours/peer <= target), target)
}

// peerPackages lists the npm packages of the peer with the versions its package-lock.json pins.
func peerPackages(dir string) string {
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	_ = json.Unmarshal(b, &lock)
	var out []string
	for _, name := range []string{"@aws-lambda-powertools/idempotency", "@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb", "@aws-sdk/util-dynamodb"} {
		out = append(out, name+"@"+lock.Packages["node_modules/"+name].Version)
	}
	return strings.Join(out, ", ")
}

// checkoutEvents returns a function writing the events/checkout.json template (unless err,
// the error of reading it) with an Idempotency-Key, without parsing the template again.
func checkoutEvents(template []byte, err error) (func(key string) []byte, error) {
	var ev map[string]any
	if err = cmp.Or(err, json.Unmarshal(template, &ev)); err != nil {
		return nil, fmt.Errorf("events/checkout.json: %w", err)
	}
	h, _ := ev["headers"].(map[string]any)
	if h == nil {
		return nil, fmt.Errorf("events/checkout.json: no headers")
	}
	const mark = "loadgen-idempotency-key-mark"
	h["idempotency-key"] = mark
	b, err := json.Marshal(ev)
	before, after, _ := bytes.Cut(b, []byte(`"`+mark+`"`))
	return func(key string) []byte {
		k, _ := json.Marshal(key)
		return bytes.Join([][]byte{before, k, after}, nil)
	}, err
}

// answered is the status and body of an API Gateway payload 2.0 response.
func answered(resp []byte) (int, []byte) {
	var r struct {
		StatusCode      int    `json:"statusCode"`
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if json.Unmarshal(resp, &r) != nil || !r.IsBase64Encoded {
		return r.StatusCode, []byte(r.Body)
	}
	body, _ := base64.StdEncoding.DecodeString(r.Body)
	return r.StatusCode, body
}

// moduleRoot is the folder of the go.mod of the working directory.
func moduleRoot() (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if p := string(bytes.TrimSpace(gomod)); err == nil && filepath.Base(p) == "go.mod" {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("go.mod not found (%v): run loadgen from the repository", err)
}
