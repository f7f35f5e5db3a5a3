//go:build !production

package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/aws/aws-lambda-go/events"

	"github.com/checkout-idem/checkout/cmd/loadgen/coldstart"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/ddb/capacity"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/lambdaevent"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/testenv"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// Each side takes peerSlices alternating turns under load (drift falls on both alike); the
// targets are ratios of our p50 to the peer's (issue #21).
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
	lambdaFn
	name, about, replayKey string
	pool                   *coldstart.Pool
	client                 *http.Client
	by                     map[string]*peerPath // by path
	inits                  vegeta.Metrics       // of the processes
	keys, bad              atomic.Int64         // distinct keys sent; answers not 201 or replays not identical
	replayBody             []byte
	rec                    recorder // the DynamoDB requests its lines told
	rss                    int64
	orders, charges        int
}

// peerPath is what was measured of one path of one side.
type peerPath struct {
	seq, con vegeta.Metrics  // one at a time; o.clients at once
	conTime  time.Duration   // length of the concurrent phases
	ids      []string        // Lambda request ids of the invocations one at a time, whose DynamoDB requests count
	lats     []time.Duration // their latencies, in the order of the rounds (both sides have one per round)
	stats    callStats
}

// callStats are the DynamoDB requests of the invocations of one path.
type callStats struct {
	invocations, requests int
	rcu, wcu              float64
	computed              int // requests whose units were computed from the rules (the others: returned)
}

func summarizeCalls(calls []capacity.Call, invocations int) callStats {
	cs := callStats{invocations: max(invocations, 1), requests: len(calls)}
	for _, c := range calls {
		r, w, computed := c.Units()
		cs.rcu, cs.wcu = cs.rcu+r, cs.wcu+w
		if computed {
			cs.computed++
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
		s.rec.record(c)
	}
	return ok
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

// check counts a bad answer (not 201, or a replay unlike the first) and adds r to into (if
// any); ids keeps the request ids whose DynamoDB requests count (one at a time: warm caches).
func (s *peerSide) check(path string, into *vegeta.Metrics, ids bool) func(*vegeta.Result) {
	return func(r *vegeta.Result) {
		if r.Code != http.StatusCreated || (path == pathReplay && !bytes.Equal(r.Body, s.replayBody)) {
			s.bad.Add(1)
		}
		if into != nil {
			into.Add(r)
		}
		if ids {
			p := s.by[path]
			p.ids, p.lats = append(p.ids, r.Headers.Get("Request-Id")), append(p.lats, r.Latency)
		}
	}
}

// runPeer runs both functions as pools of execution environments, one request at a time
// (interleaved), then under o.clients clients.
func runPeer(ctx context.Context, sys *system, rep *report) error {
	o, root := rep.o, sys.root
	node, err := exec.LookPath("node")
	if _, serr := os.Stat(filepath.Join(root, peerDir, "node_modules", "@aws-lambda-powertools", "idempotency")); err != nil || serr != nil {
		return fmt.Errorf("the Powertools peer needs node and %s/node_modules (`make bench-deps`): %v", peerDir, cmp.Or(err, serr))
	}
	stripe := startFakeStripe()
	defer stripe.Close()
	rep.logf("side by side: building the Go function, starting both pools ...")
	run := "peer-" + randomID()
	tables := []ddb.Table{idem.Table(run + "-go-idem"), orders.Table(run + "-go-orders"),
		{Name: run + "-pt-idem", PartitionKey: "id", TTLAttribute: "expiration"}, orders.Table(run + "-pt-orders")}
	for _, t := range tables {
		if err := ddb.Ensure(ctx, sys.ddb, t); err != nil {
			return err
		}
		defer dropTables(sys.ddb, t.Name)
	}
	base := []string{"HOME=" + sys.tmp, "AWS_ENDPOINT_URL_DYNAMODB=" + sys.endpoint, "STRIPE_SECRET_KEY=sk_test_bench",
		"STRIPE_API_BASE=" + stripe.URL, "LOG_LEVEL=info"}
	gofn, _, err := goFunction(ctx, sys, "./cmd/loadgen/checkoutfn", "checkout-go", tables[0].Name, tables[1].Name, base...)
	event, eerr := checkoutEvents(sys.event("checkout.json"))
	if err = cmp.Or(err, eerr); err != nil {
		return err
	}
	g := &peerSide{lambdaFn: gofn, name: "checkout-idem (Go)", about: "functions/checkout's wiring (cmd/loadgen/checkoutfn), aws-lambda-go runtime client"}
	pt := &peerSide{name: "Powertools (Node)", about: "bench/powertools/handler.mjs, makeIdempotent + DynamoDBPersistenceLayer, runtime.mjs runtime client",
		lambdaFn: lambdaFn{argv: slices.Concat([]string{node}, lambdaNodeFlags(lambdaMemoryMB), []string{"runtime.mjs"}), dir: filepath.Join(root, peerDir), env: slices.Concat(lambdaEnv(), base, []string{
			"AWS_LAMBDA_FUNCTION_NAME=checkout-powertools", "_HANDLER=handler.mjs", "AWS_EXECUTION_ENV=AWS_Lambda_nodejs20.x", "NODE_ENV=production",
			"AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1", "IDEMPOTENCY_TABLE=" + tables[2].Name, "ORDERS_TABLE=" + tables[3].Name})}}
	sides := []*peerSide{g, pt}
	for i, s := range sides {
		s.replayKey, s.by = fmt.Sprintf("%s-%d", run, i), map[string]*peerPath{pathFirst: {}, pathReplay: {}}
		// One execution environment one at a time (Lambda reuses a warm one), o.clients later.
		if s.pool, err = coldstart.StartPool(ctx, 1, s.argv, s.dir, s.env, s.line); err != nil {
			return err
		}
		defer s.pool.Stop()
		s.client = fnClient(func(r *http.Request) (*http.Response, error) {
			resp, code, body, err := invoke(ctx, s.pool, event(r.Header.Get(idem.KeyHeader)))
			if err != nil {
				return nil, err
			}
			return answer(code, body, http.Header{"Request-Id": {resp.RequestID}}), nil
		}).client()
		r := hit(ctx, s.client, s.target(pathReplay))
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
					s.check(path, map[bool]*vegeta.Metrics{true: &s.by[path].seq}[measure], measure)(hit(ctx, s.client, s.target(path)))
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
			attack(ctx, s.client, o.clients, 0, o.peerWarmup/2, s.target(path), s.check(path, nil, false))
		}
	}
	for i := range peerSlices {
		for _, path := range paths {
			for j := range sides {
				s := sides[(i+j)%len(sides)]
				s.by[path].conTime += attack(ctx, s.client, o.clients, 0, o.peerDuration/peerSlices, s.target(path), s.check(path, &s.by[path].con, false))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, s := range sides {
		s.rss = s.pool.Stop()
		for _, v := range s.pool.Inits {
			s.inits.Add(&vegeta.Result{Latency: v})
		}
		s.inits.Close()
		byID := map[string][]capacity.Call{}
		for _, c := range s.rec.take() {
			byID[c.RequestID] = append(byID[c.RequestID], c)
		}
		for _, p := range s.by {
			p.seq.Close()
			p.con.Close()
			var calls []capacity.Call
			for _, id := range p.ids {
				calls = append(calls, byID[id]...)
			}
			p.stats = summarizeCalls(calls, len(p.ids))
		}
		if s.orders, err = testenv.ScanCount(ctx, sys.ddb, tables[2*i+1].Name); err != nil {
			return err
		}
		// The provider keys: ours "checkout-<scoped key, hex>", the peer's "checkout-<order id>".
		s.charges = stripe.created(func(k string) bool { return strings.HasPrefix(k, "checkout-ord_") == (s == pt) })
		if k := int(s.keys.Load()); s.orders != k || s.charges != k {
			rep.fail("side by side, %s: %d distinct keys made %d orders and %d charges", s.name, k, s.orders, s.charges)
		}
		if n := s.bad.Load(); n > 0 {
			rep.fail("side by side, %s: %d answers not 201 or replays unlike the first answer", s.name, n)
		}
	}
	rep.ptCalls = map[string]callStats{pathFirst: pt.by[pathFirst].stats, pathReplay: pt.by[pathReplay].stats}
	nodeVersion, _ := exec.Command(node, "--version").Output()
	writePeer(rep, g, pt, string(bytes.TrimSpace(nodeVersion)), peerPackages(filepath.Join(root, peerDir)))
	return nil
}

func writePeer(rep *report, g, pt *peerSide, nodeVersion, packages string) {
	o, m := rep.o, &rep.peer
	m.p("## Side by side with Powertools for AWS Lambda\n")
	m.p("The same checkout job twice, each run as a Lambda function the same way: %d execution environments (processes) per function, started one after the other against a fake Lambda Runtime API (cmd/loadgen/coldstart) that hands each event to one waiting process, on the same DynamoDB Local, charging the same fake Stripe (one endpoint, `POST /v1/payment_intents`, with Stripe's idempotency; it counts PaymentIntents).\n", o.clients)
	m.p("- %s\n", strings.Join([]string{"**" + g.name + "**: " + g.about + ".", "**" + pt.name + "**: " + pt.about + ".",
		fmt.Sprintf("Peer packages (pinned in bench/powertools/package-lock.json): %s; Node %s. The Go function talks to the Runtime API through aws-lambda-go; the Node function through bench/powertools/runtime.mjs, a 60-line loop over the same API (GET next, POST response or error), as the npm `aws-lambda-ric` needs a native build; node starts with the flags the Lambda Node.js runtime gives a %d MB function (`%s`), as the Go function runs on the one P such a function gets.", packages, nodeVersion, lambdaMemoryMB, strings.Join(lambdaNodeFlags(lambdaMemoryMB), " ")),
		"Every DynamoDB request of both functions passes through the same instrumentation (an SDK middleware that sets `ReturnConsumedCapacity=TOTAL` and writes one line per request), so requests and units are counted, not assumed."}, "\n- "))
	rows := [][]string{{"", g.name, pt.name, "ours / peer"}}
	row := func(label string, f func(s *peerSide) float64, format func(float64) string, target float64) {
		a, b, v := f(g), f(pt), "–"
		if b > 0 && target > 0 {
			v = fmt.Sprintf("%.2f x: %s (≤ %.1f x)", a/b, met(a/b <= target), target) // ours / peer against its target
		} else if b > 0 {
			v = x(a, b)
		}
		rows = append(rows, []string{label, format(a), format(b), v})
	}
	msf := func(v float64) string { return ms(time.Duration(v)) }
	num := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	for _, path := range paths {
		a, b := g.by[path].lats, pt.by[path].lats
		r, lo, hi := ratioInterval(a, b, bootstrapResamples)
		rows = append(rows, []string{path + " p50, one at a time", ms(median(a)), ms(median(b)),
			verdict(r, lo, hi, map[string]float64{pathFirst: targetFirst, pathReplay: targetReplay}[path])})
		row(path+" p99, one at a time", func(s *peerSide) float64 { return float64(s.by[path].seq.Latencies.P99) }, msf, 0)
	}
	for _, path := range paths {
		clients := fmt.Sprintf(", %d clients", o.clients)
		row(path+" p50"+clients, func(s *peerSide) float64 { return float64(s.by[path].con.Latencies.P50) }, msf, 0)
		row(path+" p99"+clients, func(s *peerSide) float64 { return float64(s.by[path].con.Latencies.P99) }, msf, 0)
		row(map[string]string{pathFirst: "first requests", pathReplay: "replays"}[path]+" per second"+clients,
			func(s *peerSide) float64 { return float64(s.by[path].con.Requests) / s.by[path].conTime.Seconds() }, func(v float64) string { return fmt.Sprintf("%.0f", v) }, 0)
	}
	for _, path := range paths {
		row("DynamoDB requests per "+path, func(s *peerSide) float64 { c := s.by[path].stats; return c.per(float64(c.requests)) }, num, 0)
		row("write units per "+path, func(s *peerSide) float64 { c := s.by[path].stats; return c.per(c.wcu) }, num, 0)
		row("read units per "+path, func(s *peerSide) float64 { c := s.by[path].stats; return c.per(c.rcu) }, num, 0)
	}
	row("peak memory (largest VmHWM of the processes)", func(s *peerSide) float64 { return float64(s.rss) }, func(v float64) string { return mib(int64(v)) }, 0)
	row("cold init p50 (process start to first GET next)", func(s *peerSide) float64 { return float64(s.inits.Latencies.P50) }, msf, 0)
	row("cold init max", func(s *peerSide) float64 { return float64(s.inits.Latencies.Max) }, msf, 0)
	rows = append(rows, []string{"distinct keys / orders / PaymentIntents", fmt.Sprintf("%d / %d / %d", g.keys.Load(), g.orders, g.charges),
		fmt.Sprintf("%d / %d / %d", pt.keys.Load(), pt.orders, pt.charges), "–"})
	m.table("lrrl", rows...)
	m.p("One at a time: %s of alternating requests (the two functions take turns, each a first request then a replay of a key completed before the measurement; %d rounds), after %s of unmeasured load on each side (Node's and DynamoDB Local's JIT compilers). The p50s one at a time are the exact medians of the rounds, and each ratio comes with its 95 %% interval: a percentile bootstrap that resamples the rounds, both sides' requests of a round together, %d times. A target is met when the whole interval is under it; a median under it with an interval that reaches past it is this run's noise, not a verdict. Under load: %d clients (vegeta, a closed loop) for %s per side and path, in %d slices, the sides taking turns. Latency is the harness's: from handing the event to the Runtime API to the function's answer, DynamoDB Local round trips included. Every replay is checked byte for byte against the first answer of its key.\n",
		o.peerSeq, len(g.by[pathFirst].lats), o.peerWarmup, bootstrapResamples, o.clients, o.peerDuration, peerSlices)
}

// bootstrapResamples is how many times ratioInterval resamples the rounds.
const bootstrapResamples = 2000

// ratioInterval returns the ratio of the medians of a and b, paired by index (round i of the
// interleaved phase gave a[i] and b[i]), and its 95 % percentile-bootstrap interval: the
// rounds resampled with replacement n times, from a fixed seed, so that the same samples
// always give the same interval. Pairing keeps a round's drift (the shared machine's) on both
// sides of each resample.
func ratioInterval(a, b []time.Duration, n int) (ratio, lo, hi float64) {
	k := min(len(a), len(b))
	if k == 0 {
		return 0, 0, 0
	}
	ratio = float64(median(a[:k])) / float64(median(b[:k]))
	rng := rand.New(rand.NewPCG(21, 7))
	ratios := make([]float64, n)
	ra, rb := make([]time.Duration, k), make([]time.Duration, k) // each resample, sorted in place
	for i := range ratios {
		for j := range k {
			r := rng.IntN(k)
			ra[j], rb[j] = a[r], b[r]
		}
		slices.Sort(ra)
		slices.Sort(rb)
		ratios[i] = float64(middle(ra)) / float64(middle(rb))
	}
	slices.Sort(ratios)
	return ratio, ratios[n*25/1000], ratios[n*975/1000-1]
}

// median returns the middle of d (the mean of the two middle ones for an even count), leaving
// d as it is.
func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return middle(slices.Sorted(slices.Values(d)))
}

// middle returns the median of sorted, which is not empty.
func middle(sorted []time.Duration) time.Duration {
	if n := len(sorted); n%2 == 0 {
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return sorted[len(sorted)/2]
}

// verdict says how a ratio and its interval stand against the target (ours / the peer's,
// at most target).
func verdict(ratio, lo, hi, target float64) string {
	s := fmt.Sprintf("%.2f x (95 %% interval %.2f–%.2f x): ", ratio, lo, hi)
	switch {
	case hi <= target:
		return s + fmt.Sprintf("met (≤ %.1f x)", target)
	case ratio <= target:
		return s + fmt.Sprintf("met at the median, within the noise (≤ %.1f x)", target)
	case lo <= target:
		return s + fmt.Sprintf("**missed** at the median, within the noise (≤ %.1f x)", target)
	}
	return s + fmt.Sprintf("**missed** (≤ %.1f x)", target)
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

// checkoutEvents writes the event ev (unless err, that of reading it) with an Idempotency-Key,
// without encoding the event again.
func checkoutEvents(ev events.APIGatewayV2HTTPRequest, err error) (func(key string) []byte, error) {
	const mark = "loadgen-idempotency-key-mark"
	ev.Headers = maps.Clone(ev.Headers)
	ev.Headers["idempotency-key"] = mark
	b, merr := json.Marshal(ev)
	if err = cmp.Or(err, merr); err != nil {
		return nil, err
	}
	before, after, _ := bytes.Cut(b, []byte(`"`+mark+`"`))
	return func(key string) []byte {
		k, _ := json.Marshal(key)
		return bytes.Join([][]byte{before, k, after}, nil)
	}, nil
}

// answered is the status and body of an API Gateway payload 2.0 response.
func answered(resp []byte) (int, []byte) {
	var r events.APIGatewayV2HTTPResponse
	if json.Unmarshal(resp, &r) != nil || !r.IsBase64Encoded {
		return r.StatusCode, []byte(r.Body)
	}
	body, _ := base64.StdEncoding.DecodeString(r.Body)
	return r.StatusCode, body
}

// fakeStripe is the one endpoint both peer functions charge (POST /v1/payment_intents), with
// Stripe's idempotency by Idempotency-Key; it keeps the PaymentIntents by key, to count them.
type fakeStripe struct {
	*httptest.Server
	mu    sync.Mutex
	byKey map[string][]byte
}

func startFakeStripe() *fakeStripe {
	f := &fakeStripe{byKey: map[string][]byte{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.URL.Path != "/v1/payment_intents" {
			http.Error(w, fmt.Sprint("fake Stripe: ", r.Method, r.URL.Path, err), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		key, id := r.Header.Get("Idempotency-Key"), fmt.Sprintf("pi_bench%016d", len(f.byKey))
		if b, ok := f.byKey[key]; ok && key != "" {
			w.Header().Set("Idempotent-Replayed", "true")
			_, _ = w.Write(b)
			return
		}
		amount, form := 0, r.PostForm.Get
		_, _ = fmt.Sscan(form("amount"), &amount)
		b, _ := json.Marshal(map[string]any{"id": id, "object": "payment_intent", "amount": amount, "currency": form("currency"), "status": "succeeded",
			"client_secret": id + "_secret_bench", "livemode": false, "payment_method": form("payment_method"), "metadata": map[string]string{"order_id": form("metadata[order_id]")}})
		if key != "" {
			f.byKey[key] = b
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	return f
}

// created is the number of PaymentIntents created with an Idempotency-Key that match accepts.
func (f *fakeStripe) created(match func(key string) bool) (n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.byKey {
		if match(k) {
			n++
		}
	}
	return n
}

// DynamoDB on-demand prices (Standard, USD per million request units, since 1 November 2024,
// checked against stored copies of the pricing pages).
const (
	priceWRU, priceRRU        = 0.625, 0.125
	priceRegion, priceChecked = "US East (N. Virginia), us-east-1", "2026-11-30"
	webhookSecret             = "whsec_loadgen_only" // signs every webhook event of loadgen
)

func perMillion(rcu, wcu float64) float64 { return rcu*priceRRU + wcu*priceWRU }

// recorder keeps the DynamoDB requests of a client (capacity.Option).
type recorder struct {
	mu    sync.Mutex
	calls []capacity.Call
}

func (r *recorder) record(c capacity.Call) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

func (r *recorder) take() (c []capacity.Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, r.calls = r.calls, nil
	return c
}

// measureCapacity runs each operation once through the HTTP handlers on fresh tables: a
// checkout, its replay, a checkout without a card, the webhook paying it, its redelivery.
func measureCapacity(ctx context.Context, sys *system, rep *report) error {
	rep.logf("capacity: one operation at a time, consumed capacity asked of DynamoDB ...")
	rec := &recorder{}
	h, _, _, err := localAPI(ctx, sys, "capacity-"+randomID(), capacity.Option(rec.record))
	if err != nil {
		return err
	}
	rows := [][]string{{"operation", "DynamoDB requests", "RCU", "WCU", "computed / returned", "what Local returned (CU)", "requests"}}
	var ops []callStats
	serve := func(name, path, body string, header ...string) []byte {
		rec.take()
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(header[0], header[1])
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		calls := rec.take()
		cs, localCU, reqs := summarizeCalls(calls, 1), 0.0, []string{}
		for _, c := range calls {
			localCU += max(c.CU, 0) // transactions repeated per table
			if reqs = append(reqs, c.Op); !c.OK {
				reqs[len(reqs)-1] += " (" + strings.TrimSuffix(c.Err, "Exception") + ")"
			}
		}
		if w.Code != http.StatusCreated && w.Code != http.StatusOK {
			rep.fail("capacity, %s: status %d: %s", name, w.Code, strings.TrimSpace(w.Body.String()))
		}
		ops = append(ops, cs)
		rows = append(rows, []string{name, fmt.Sprint(cs.requests), fmt.Sprintf("%.1f", cs.rcu), fmt.Sprintf("%.1f", cs.wcu),
			fmt.Sprintf("%d / %d", cs.computed, cs.requests-cs.computed), fmt.Sprintf("%.1f", localCU), strings.Join(reqs, ", ")})
		return w.Body.Bytes()
	}
	key := "capacity-" + randomID()
	serve("checkout, first request", "/checkout", checkoutBody, idem.KeyHeader, key)
	serve("checkout, replay", "/checkout", checkoutBody, idem.KeyHeader, key)
	var pending checkout.Response
	_ = json.Unmarshal(serve("checkout without a card (for the webhook)", "/checkout", pendingBody, idem.KeyHeader, key+"-pending"), &pending)
	ev, err := sys.event("webhook-stripe.json")
	if err == nil {
		ev, err = lambdaevent.SignStripe(ev, webhookSecret, time.Now(), pending.OrderID, "", "evt_capacity_"+randomID())
	}
	body, berr := lambdaevent.Body(ev)
	if err = cmp.Or(err, berr); err != nil {
		return err
	}
	for _, name := range []string{"webhook delivery", "webhook, duplicate delivery"} {
		serve(name, "/webhooks", string(body), webhook.StripeSignatureHeader, ev.Headers["stripe-signature"])
	}
	for _, path := range paths {
		if cs, ok := rep.ptCalls[path]; ok {
			rows = append(rows, []string{fmt.Sprintf("Powertools peer, %s (mean of %d)", path, cs.invocations), fmt.Sprintf("%.2f", cs.per(float64(cs.requests))),
				fmt.Sprintf("%.2f", cs.per(cs.rcu)), fmt.Sprintf("%.2f", cs.per(cs.wcu)), fmt.Sprintf("%d / %d", cs.computed, cs.requests-cs.computed), "–", "from the side-by-side"})
		}
	}
	rows = append(rows, []string{"reconciler, per stuck order (calculated)", "a share of 1 Query + 1 UpdateItem", "≤ 0.125", "about 2", "calculated", "–",
		"calculated from the documented rules, not measured: the pass lists stuck orders with an eventually consistent Query on the sparse GSI `" + orders.OpenIndex + "` (one per open status; 0.5 RCU per 4 KB returned, at least 0.5 RCU per Query), shared by a page of up to RECONCILE_LIMIT orders, then settles each with one conditional UpdateItem (about 1 WCU for an order under 1 KB, plus 1 WCU for the index entry it removes when the order leaves created, pending or requires_action): about 2 WCU and at most 0.125 RCU per stuck order (four orders under 1 KB to 4 KB), plus the Queries' floor of 0.5 RCU each, which a pass pays even when nothing is stuck"})
	m := &rep.capacity
	m.p("## Capacity units per operation\n")
	m.p("Each operation once, one at a time, through the HTTP handlers on fresh tables, with the capacity middleware on the DynamoDB client (every request asks `ReturnConsumedCapacity=TOTAL`). DynamoDB Local returns consumed capacity for successful single-item requests (PutItem, UpdateItem, GetItem: they match the documented rules); it returns nothing for a failed condition (the answer is an error) and, for a transaction, repeats the whole transaction's units once per table it touches. Those are **computed** from the documented rules: 1 WCU per KB written (rounded up), 2 per KB in a transaction (every item, ConditionCheck included; an Update or ConditionCheck whose item was not returned counts 1 KB); a failed conditional write consumes 1 WCU per KB of the existing item; a strongly consistent read 1 RCU per 4 KB. A cancelled transaction is counted as the transactional write it attempted: an upper bound, since the documentation does not state what a cancelled transaction is charged.\n")
	m.table("lrrrlrl", rows...)
	first, replay, hook, dup := ops[0], ops[1], ops[3], ops[4]
	rows = [][]string{{"per million", "RCU", "WCU", "cost (USD)"}}
	line := func(label string, r, w float64) {
		rows = append(rows, []string{label, fmt.Sprintf("%.1f M", r), fmt.Sprintf("%.1f M", w), fmt.Sprintf("%.2f", perMillion(r, w))})
	}
	line("checkouts (first request only)", first.rcu, first.wcu)
	line("checkouts + one webhook delivery each", first.rcu+hook.rcu, first.wcu+hook.wcu)
	line("… + one replay and one duplicate delivery each (a retrying client, a redelivering provider)", first.rcu+hook.rcu+replay.rcu+dup.rcu, first.wcu+hook.wcu+replay.wcu+dup.wcu)
	pt, peer := rep.ptCalls[pathFirst]
	if peer {
		line("Powertools peer's checkouts (first request only)", pt.per(pt.rcu), pt.per(pt.wcu))
	}
	m.p("### On-demand cost per million checkouts\n")
	m.p("Prices: $%.3f per million write request units and $%.3f per million read request units, on-demand, Standard table class, %s, as listed on aws.amazon.com/dynamodb/pricing/on-demand/ since AWS halved on-demand prices on 1 November 2024 (checked %s against stored copies of the pricing pages, not the live page; check the page before relying on it). Storage, backups, streams and data transfer are not included.\n",
		priceWRU, priceRRU, priceRegion, priceChecked)
	m.table("lrrr", rows...)
	return nil
}

// event reads a file of events/.
func (s *system) event(name string) (events.APIGatewayV2HTTPRequest, error) {
	return lambdaevent.Load(filepath.Join(s.root, "events", name))
}

// runColdstart builds the checkout and webhook bootstraps (this machine's, and linux/arm64 for
// their size) and cold-starts each o.coldRuns times with one event: a checkout with a new key,
// or a webhook with a new event id about an order the checkout runs created.
func runColdstart(ctx context.Context, sys *system, rep *report) error {
	rep.logf("cold starts: building the bootstraps, then %d cold starts per function ...", rep.o.coldRuns)
	run, orderIDs := randomID(), []string(nil)
	rows := [][]string{{"function", "runs", "init p50", "init max", "first answer p50", "first answer max", "statuses", "peak RSS",
		runtime.GOOS + "/" + runtime.GOARCH + " size", "linux/arm64 size (deployed)"}}
	for _, name := range []string{"CheckoutFunction", "WebhookFunction"} {
		pkg, fname := "./functions/"+strings.ToLower(strings.TrimSuffix(name, "Function")), "checkout-"+name
		fn, hostSize, herr := goFunction(ctx, sys, pkg, fname, sys.cfg.IdempotencyTable, sys.cfg.OrdersTable, "AWS_LAMBDA_LOG_STREAM_NAME=loadgen",
			"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+fname, config.EnvStripeWebhookSecret+"="+webhookSecret, config.EnvPaymentProvider+"="+config.ProviderLocal)
		armSize, aerr := coldstart.Build(ctx, sys.root, pkg, "linux", "arm64", filepath.Join(sys.tmp, fname, "arm64", "bootstrap"))
		ev, err := sys.event(map[string]string{"CheckoutFunction": "checkout.json", "WebhookFunction": "webhook-stripe.json"}[name])
		if err = cmp.Or(herr, aerr, err); err != nil {
			return err
		}
		if name == "WebhookFunction" && len(orderIDs) == 0 {
			return fmt.Errorf("no checkout cold start created an order for the webhook's")
		}
		checkoutEvent, _ := checkoutEvents(ev, nil)
		inits, firsts, rss := &vegeta.Metrics{}, &vegeta.Metrics{}, int64(0) // firsts: first answers' latencies and statuses
		for i := range rep.o.coldRuns {
			event := checkoutEvent(fmt.Sprintf("coldstart-%s-%d", run, i))
			if name == "WebhookFunction" {
				signed, err := lambdaevent.SignStripe(ev, webhookSecret, time.Now(), orderIDs[i%len(orderIDs)], "", fmt.Sprintf("evt_coldstart_%s_%d", run, i))
				if event, _ = json.Marshal(signed); err != nil {
					return err
				}
			}
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			p, err := coldstart.StartPool(cctx, 1, fn.argv, fn.dir, fn.env, nil)
			resp, code, body := coldstart.Response{}, 0, []byte(nil)
			if err == nil {
				resp, code, body, err = invoke(cctx, p, event)
				rss = max(rss, p.Stop())
			}
			if cancel(); err != nil {
				rep.fail("cold start: %s failed after %d runs: %s", name, i, strings.Join(strings.Fields(err.Error()), " "))
				break
			}
			inits.Add(&vegeta.Result{Latency: p.Inits[0]})
			firsts.Add(&vegeta.Result{Latency: resp.At.Sub(p.Started[0]), Code: uint16(code)})
			var o checkout.Response
			if json.Unmarshal(body, &o) == nil && o.OrderID != "" && name == "CheckoutFunction" {
				orderIDs = append(orderIDs, o.OrderID)
			}
		}
		closed(inits)
		rows = append(rows, []string{name, fmt.Sprint(inits.Requests), ms(inits.Latencies.P50), ms(inits.Latencies.Max), ms(closed(firsts).Latencies.P50),
			ms(firsts.Latencies.Max), statuses(firsts), fmt.Sprintf("%.1f MiB", float64(rss)/(1<<20)), mib(hostSize), mib(armSize)})
		rep.logf("  %s", strings.Join(rows[len(rows)-1], "  "))
	}
	m := &rep.cold
	m.p("## Cold start\n")
	m.p("Each bootstrap is built with the Makefile's flags (`CGO_ENABLED=0 %s`) for this machine (%s/%s), started as a process whose `AWS_LAMBDA_RUNTIME_API` is a fake Runtime API in loadgen, and handed one event: a checkout with a new Idempotency-Key (claim, order, charge, completion), or a Stripe webhook (payment_intent.succeeded) with a new event id, about an order the checkout cold starts created, signed with the configured secret. **init** is process start to its first `GET /runtime/invocation/next`; **first answer** is process start to its `POST .../response`, DynamoDB Local round trips included. The Lambda service's own part (sandbox, code download) is not in these figures.\n",
		strings.Replace(strings.Join(coldstart.BuildFlags, " "), "-s -w", `"-s -w"`, 1), runtime.GOOS, runtime.GOARCH)
	m.table("lrrrrrlrrr", rows...)
	return nil
}

// lambdaFn is a function as the Lambda service runs it: argv in dir with env, as processes of a
// coldstart.Pool.
type lambdaFn struct {
	argv, env []string
	dir       string
}

// goFunction builds pkg for this machine and runs it as function name (provided.al2023) on the
// tables idemTable and ordersTable and the run's catalog, with env added; size is the binary's.
func goFunction(ctx context.Context, sys *system, pkg, name, idemTable, ordersTable string, env ...string) (f lambdaFn, size int64, err error) {
	f.dir = filepath.Join(sys.tmp, name)
	f.argv = []string{filepath.Join(f.dir, "bootstrap")}
	f.env = slices.Concat(lambdaEnv(), env, []string{"AWS_LAMBDA_FUNCTION_NAME=" + name, "_HANDLER=bootstrap", "AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		config.EnvDynamoDBEndpoint + "=" + sys.endpoint, config.EnvIdempotencyTable + "=" + idemTable, config.EnvOrdersTable + "=" + ordersTable,
		config.EnvCatalogTable + "=" + sys.cfg.CatalogTable}) // benchCatalog
	size, err = coldstart.Build(ctx, sys.root, pkg, runtime.GOOS, runtime.GOARCH, f.argv[0])
	return f, size, err
}

// invoke hands event to one of p's processes and returns the status and body of its answer (a
// failed handler: an error).
func invoke(ctx context.Context, p *coldstart.Pool, event []byte) (coldstart.Response, int, []byte, error) {
	resp, err := p.Invoke(ctx, event)
	if err == nil && resp.Error {
		err = fmt.Errorf("the handler failed: %s", resp.Body)
	}
	code, body := answered(resp.Body)
	return resp, code, body, err
}

// lambdaMemoryMB is the memory both functions are configured with, as template.yaml's are.
const lambdaMemoryMB = 256

// lambdaEnv is the environment the Lambda service gives every function here.
func lambdaEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "TZ=:UTC", "LANG=C.UTF-8", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		fmt.Sprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", lambdaMemoryMB), "AWS_LAMBDA_INITIALIZATION_TYPE=on-demand"}
}

// lambdaNodeFlags are the flags the Lambda Node.js runtime's bootstrap script starts node with
// for a function of memoryMB: a tenth of the memory for V8's young generation (half of it per
// semi-space), the rest for the old one. The Go function gets its share of the same setting
// from its own init (awsenv.FitProcs reads AWS_LAMBDA_FUNCTION_MEMORY_SIZE), so both run as
// Lambda would run them.
func lambdaNodeFlags(memoryMB int) []string {
	young := memoryMB / 10
	return []string{"--expose-gc", "--max-http-header-size", "81920",
		fmt.Sprintf("--max-semi-space-size=%d", young/2), fmt.Sprintf("--max-old-space-size=%d", memoryMB-young)}
}
