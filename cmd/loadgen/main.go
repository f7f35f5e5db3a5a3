// loadgen counts the charges of payment.Local with counters that the production build (the
// bootstraps' -tags production) leaves out, so that build leaves loadgen out too.

//go:build !production

// Command loadgen puts POST /checkout of the local API (on loopback, over fresh tables of
// DynamoDB Local or DYNAMODB_ENDPOINT) under load with vegeta and writes <out>/REPORT.md; its
// flags add cold starts, the Powertools peer and capacity units (1,000 duplicates of one key
// are internal/sale's BenchmarkStorm). It exits 1 when orders or charges differ from the
// distinct keys sent, or a replay from the first answer.
//
//	go run ./cmd/loadgen -out bench -coldstart -peer -capacity
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/localapi"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// options are the command-line flags.
type options struct {
	clients, requests, replayKeys, stormKeys, coldRuns                    int
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
	fs.DurationVar(&o.peerSeq, "peer-sequential", 12*time.Second, "length of the one-request-at-a-time phase of the side-by-side (its rounds are what the ratios' intervals resample)")
	fs.DurationVar(&o.peerWarmup, "peer-warmup", 6*time.Second, "unmeasured load on each side first (the JIT compilers of Node and DynamoDB Local)")
	fs.BoolVar(&o.capacity, "capacity", false, "also measure the consumed capacity of each operation (checkout, replay, webhook, duplicate)")
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
	o                          options
	log                        io.Writer
	load, peer, capacity, cold md
	failures                   []string             // broken promises: exit 1
	ptCalls                    map[string]callStats // the peer's, by path
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
	}{{true, "load", runLoad}, {o.peer, "side by side", runPeer}, {o.capacity, "capacity", measureCapacity}, {o.coldstart, "cold start", runColdstart}} {
		if !s.on {
			continue
		}
		if err := cmp.Or(s.f(ctx, sys, rep), ctx.Err()); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	var m md
	m.p("# Benchmark report: load, side by side with Powertools, capacity, cold start\n")
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
		m.p("- %s\n", strings.Join(rep.failures, "\n- "))
	}
	m.WriteString(rep.load.String() + rep.peer.String() + rep.capacity.String() + rep.cold.String())
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
	if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.*\S)`).FindSubmatch(b); m != nil {
		return " (" + string(m[1]) + ")"
	}
	return ""
}

// checkoutBody buys one tee-black-m at its price with a card; pendingBody has no card (the order
// waits for a webhook). benchCatalog's stock is endless and in many shards.
const (
	checkoutBody = `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2300,"currency":"eur","payment_method":"pm_card_visa"}`
	pendingBody  = `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2300,"currency":"eur"}`
	benchCatalog = `{"products":[{"sku":"tee-black-m","name":"Black tee, M","prices":{"usd":2500,"eur":2300},"stock":100000000,"shards":20}]}`
)

// closedLoop paces an attack as fast as its workers answer; it stops after n requests (0: never).
type closedLoop int

func (n closedLoop) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	return 0, n > 0 && hits >= uint64(n)
}
func (closedLoop) Rate(time.Duration) float64 { return 0 }

// attack sends tr's targets from workers in a closed loop for d or n requests (0: no limit),
// hands each result to each and returns how long it took.
func attack(ctx context.Context, c *http.Client, workers, n int, d time.Duration, tr vegeta.Targeter, each func(*vegeta.Result)) time.Duration {
	if n == 0 && d <= 0 {
		return 0
	}
	a := vegeta.NewAttacker(vegeta.Client(c), vegeta.Workers(uint64(workers)), vegeta.MaxWorkers(uint64(workers)))
	defer context.AfterFunc(ctx, func() { a.Stop() })()
	start := time.Now()
	for r := range a.Attack(tr, closedLoop(n), d, "") {
		each(r)
	}
	return time.Since(start)
}

// hit sends one request and returns its result.
func hit(ctx context.Context, c *http.Client, tr vegeta.Targeter) (r *vegeta.Result) {
	attack(ctx, c, 1, 1, 0, tr, func(x *vegeta.Result) { r = x })
	return r
}

// fnClient makes a client of f, for vegeta to pace and time what is not HTTP.
type fnClient func(*http.Request) (*http.Response, error)

func (f fnClient) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
func (f fnClient) client() *http.Client                              { return &http.Client{Transport: f} }

func answer(code int, body []byte, h http.Header) *http.Response {
	return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(bytes.NewReader(body))}
}

// ddbCall is a client whose every request is f.
func ddbCall(ctx context.Context, f func(context.Context) error) *http.Client {
	return fnClient(func(*http.Request) (*http.Response, error) {
		if err := f(ctx); err != nil {
			return nil, err
		}
		return answer(http.StatusOK, nil, http.Header{}), nil
	}).client()
}

var anyTarget = vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: "http://loadgen/"})

// checkouts targets POST /checkout at url, the i-th request with key(i).
func checkouts(url string, key func(i uint64) string) vegeta.Targeter {
	var seq atomic.Uint64
	return func(t *vegeta.Target) error {
		*t = vegeta.Target{Method: http.MethodPost, URL: url + "/checkout", Body: []byte(checkoutBody),
			Header: http.Header{"Content-Type": {"application/json"}, idem.KeyHeader: {key(seq.Add(1) - 1)}}}
		return nil
	}
}

func closed(m *vegeta.Metrics) *vegeta.Metrics { m.Close(); return m }

// statuses is "201 x8, error x1" (error: no answer).
func statuses(m *vegeta.Metrics) string {
	var out []string
	for _, code := range slices.Sorted(maps.Keys(m.StatusCodes)) {
		out = append(out, fmt.Sprintf("%s x%d", cmp.Or(map[string]string{"0": "error"}[code], code), m.StatusCodes[code]))
	}
	return strings.Join(out, ", ")
}

// system is what the scenarios run against: the local API on loopback, its counted DynamoDB
// client and its payment provider.
type system struct {
	url, endpoint, where string
	root, tmp            string // of the module, for events/; of the run's files (builds, catalog)
	cfg                  config.Config
	counter              *ddb.Counter
	ddb                  *dynamodb.Client
	payments             *payment.Local
	client               *http.Client
	closers              []func()
}

func (s *system) close() {
	for _, f := range slices.Backward(s.closers) {
		f()
	}
}

// localAPI is the local API over fresh tables named after prefix (dropped at the end).
func localAPI(ctx context.Context, s *system, prefix string, opts ...func(*dynamodb.Options)) (http.Handler, *app.Deps, config.Config, error) {
	cfg := s.cfg
	cfg.IdempotencyTable, cfg.OrdersTable, cfg.CatalogTable = prefix+"-idempotency", prefix+"-orders", prefix+"-catalog"
	cfg.StripeWebhookSecrets = []string{webhookSecret}
	deps, err := app.Load(ctx, cfg, io.Discard, app.Options{EnsureTables: true, DynamoDBOptions: opts})
	if err != nil {
		return nil, nil, cfg, err
	}
	s.closers = append(s.closers, func() { dropTables(deps.DynamoDB, cfg.IdempotencyTable, cfg.OrdersTable, cfg.CatalogTable) })
	deps.Payments, deps.Provider = payment.NewLocal(), "local"
	h, err := localapi.Handler(deps, nil)
	return h, deps, cfg, err
}

// newSystem starts DynamoDB Local unless DYNAMODB_ENDPOINT is set, and the local API; every
// app.Load of the run loads benchCatalog.
func newSystem(ctx context.Context, log io.Writer) (s *system, err error) {
	s = &system{endpoint: ddb.EndpointFromEnv(), where: "DynamoDB at " + ddb.EndpointFromEnv() + " (DYNAMODB_ENDPOINT)"}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.endpoint == "" {
		fmt.Fprintln(log, "starting DynamoDB Local ...")
		d, err := testenv.StartDynamoDB("")
		if err != nil {
			return s, err
		}
		s.closers, s.endpoint, s.where = append(s.closers, d.Stop), d.Endpoint, "DynamoDB Local (in memory, started by loadgen)"
	}
	s.root, err = testenv.RepoRoot()
	cfg, cerr := config.FromEnv()
	if s.cfg, err = cfg, cmp.Or(err, cerr); err != nil {
		return s, err
	}
	// Charges are counted on the local provider; the access log is encoded as in production.
	s.cfg.DynamoDBEndpoint, s.cfg.StripeSecretKey, s.cfg.LogLevel = s.endpoint, "", "info"
	if s.tmp, err = os.MkdirTemp("", "loadgen-"); err != nil {
		return s, err
	}
	catalog := filepath.Join(s.tmp, "catalog.json")
	s.closers = append(s.closers, func() { _ = os.RemoveAll(s.tmp) })
	if err := errors.Join(os.WriteFile(catalog, []byte(benchCatalog), 0o600), os.Setenv(app.EnvCatalogFile, catalog)); err != nil {
		return s, err
	}
	s.counter = &ddb.Counter{}
	h, deps, cfg, err := localAPI(ctx, s, fmt.Sprintf("loadgen-%d-%d", os.Getpid(), time.Now().Unix()), s.counter.Option())
	if err != nil {
		return s, err
	}
	srv := httptest.NewServer(h)
	s.cfg, s.ddb, s.payments, s.closers = cfg, deps.DynamoDB, deps.Payments.(*payment.Local), append(s.closers, srv.Close)
	s.url, s.client = srv.URL, httpClient(64)
	return s, nil
}

// httpClient is what the simulated clients share: keep-alive connections, up to conns.
func httpClient(conns int) *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{Proxy: nil, MaxIdleConns: conns,
		MaxIdleConnsPerHost: conns, IdleConnTimeout: 90 * time.Second, DisableCompression: true}}
}

// dropTables deletes a run's tables, so a shared DynamoDB Local does not fill up.
func dropTables(c *dynamodb.Client, tables ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, t := range tables {
		_, _ = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(t)})
	}
}

func randomID() string { return strings.ToLower(rand.Text()[:8]) }

// putItem is a bare PutItem of an idempotency-record-sized item on the API's client.
func (s *system) putItem(ctx context.Context) error {
	_, err := s.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.cfg.IdempotencyTable), Item: map[string]types.AttributeValue{
		idem.PartitionKey: ddb.S("baseline-" + rand.Text()), "status": ddb.S("IN_PROGRESS"),
		"fingerprint": ddb.S(strings.Repeat("f", 64)), idem.TTLAttribute: &types.AttributeValueMemberN{Value: "4102444800"}}})
	return err
}

// counted runs f and returns the orders (consistent Scans) and charges it made, and the API's
// DynamoDB requests from f's call of begin on.
func (s *system) counted(ctx context.Context, f func(begin func()) error) (ddbReqs int64, orders, charges int, err error) {
	orders0, err := testenv.ScanCount(ctx, s.ddb, s.cfg.OrdersTable)
	charges0, ddb0 := s.payments.Created(), s.counter.Load()
	if err == nil {
		err = f(func() { ddb0 = s.counter.Load() })
	}
	ddbReqs = s.counter.Load() - ddb0
	if err == nil {
		orders, err = testenv.ScanCount(ctx, s.ddb, s.cfg.OrdersTable)
	}
	return ddbReqs, orders - orders0, s.payments.Created() - charges0, err
}

// runLoad warms up, runs the unique, replay and storm scenarios between bare PutItem baseline
// phases, then the paths one request at a time.
func runLoad(ctx context.Context, s *system, rep *report) error {
	o, run := rep.o, randomID()
	key := func(label string, mod uint64) func(uint64) string {
		return func(i uint64) string { return fmt.Sprintf("%s-%s-%d", run, label, i%mod) }
	}
	rep.logf("loadgen: %d clients against %s; warming up for %s ...", o.clients, s.url, o.warmup)
	warm := &vegeta.Metrics{} // every key twice: the replay path warms up too
	attack(ctx, s.client, o.clients, 0, o.warmup, checkouts(s.url, func(i uint64) string { return key("warm", 1<<62)(i / 2) }), warm.Add)
	if closed(warm).StatusCodes["0"] > 0 {
		return fmt.Errorf("warm-up: %s (%v)", statuses(warm), warm.Errors)
	}
	base, baseP50 := [][]string{{"phase", "alone p50", "alone p99", "n", fmt.Sprintf("at %d p50", o.clients), fmt.Sprintf("at %d p99", o.clients), "n"}}, [][2]float64{}
	putItem := ddbCall(ctx, s.putItem)
	baseline := func(label string) {
		row, p50 := []string{label}, [2]float64{}
		for i, n := range []int{1, o.clients} {
			m := &vegeta.Metrics{}
			attack(ctx, putItem, n, 0, o.baseline, anyTarget, m.Add)
			row, p50[i] = append(row, ms(closed(m).Latencies.P50), ms(m.Latencies.P99), fmt.Sprint(m.Requests)), float64(m.Latencies.P50)
		}
		base, baseP50 = append(base, row), append(baseP50, p50)
		rep.logf("baseline PutItem (%s): p50 %s alone, %s at %d at once", label, row[1], row[4], o.clients)
	}
	stormKeys := cmp.Or(max(min(o.requests, 1), o.requests/o.clients), o.stormKeys) // -requests: -requests/-clients
	scenarios := [][2]string{{"unique", "every request a new key: the first-time path (claim, order, charge, completion)"},
		{"replay", "keys completed beforehand, sent again: the stored response is replayed"},
		{"storm", "every client sends the same key at the same moment, key after key: one wins, the others wait and replay"}}
	rows := [][]string{{"scenario", "requests", "req/s", "p50", "p95", "p99", "max", "statuses", "DynamoDB req / API req", "distinct keys",
		"orders", "charges", "p50 / PutItem p50 alone", fmt.Sprintf("p50 / PutItem p50 at %d", o.clients)}}
	baseline("before unique")
	for i, sc := range scenarios {
		name, m, keys, elapsed := sc[0], &vegeta.Metrics{}, 0, time.Duration(0)
		ddbReqs, orders, charges, err := s.counted(ctx, func(begin func()) error {
			switch name {
			case "unique":
				elapsed = attack(ctx, s.client, o.clients, o.requests, o.duration, checkouts(s.url, key(name, 1<<62)), m.Add)
				keys = int(m.Requests)
			case "replay":
				prep := &vegeta.Metrics{}
				if attack(ctx, s.client, o.clients, o.replayKeys, 0, checkouts(s.url, key(name, 1<<62)), prep.Add); prep.StatusCodes["201"] != o.replayKeys {
					return fmt.Errorf("replay: the first requests answered %s", statuses(prep))
				}
				keys = o.replayKeys
				begin()
				elapsed = attack(ctx, s.client, o.clients, o.requests, o.duration, checkouts(s.url, key(name, uint64(keys))), m.Add)
			case "storm":
				for k := range uint64(stormKeys) {
					elapsed += attack(ctx, s.client, o.clients, o.clients, 0, checkouts(s.url, func(uint64) string { return key(name, 1<<62)(k) }), m.Add)
				}
				keys = stormKeys
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
		if closed(m); orders != keys || charges != keys {
			rep.fail("%s: %d distinct keys made %d orders and %d charges", name, keys, orders, charges)
		}
		baseline(map[bool]string{true: "between " + name + " and " + scenarios[min(i+1, len(scenarios)-1)][0], false: "after " + name}[i+1 < len(scenarios)])
		p50 := 2 * float64(m.Latencies.P50)
		rows = append(rows, []string{name, fmt.Sprint(m.Requests), fmt.Sprintf("%.0f", float64(m.Requests)/elapsed.Seconds()), ms(m.Latencies.P50), ms(m.Latencies.P95),
			ms(m.Latencies.P99), ms(m.Latencies.Max), statuses(m), fmt.Sprintf("%.2f", float64(ddbReqs)/float64(m.Requests)), fmt.Sprint(keys), fmt.Sprint(orders),
			fmt.Sprint(charges), fmt.Sprintf("%.1f x", p50/(baseP50[i][0]+baseP50[i+1][0])), fmt.Sprintf("%.2f x", p50/(baseP50[i][1]+baseP50[i+1][1]))})
		rep.logf("%s", strings.Join(rows[len(rows)-1], "  "))
	}
	l := &rep.load
	l.p("## Load\n")
	l.table("lrrrrrrlrrrrrr", rows...)
	for _, sc := range scenarios {
		l.p("- **%s**: %s.", sc[0], sc[1])
	}
	l.p("\nLatency is measured by the client: from sending the request to reading the whole answer. Requests are sent, timed and summed up by vegeta (github.com/tsenart/vegeta/v12: a closed loop, each client sending its next request when its answer arrived; percentiles are its t-digest estimates). DynamoDB requests are counted by an SDK middleware on the API's client, retries included, from the first measured request to the last. Orders are counted with a consistent Scan of the orders table before and after each scenario (the replay scenario's preparation included), charges by the local payment provider; both must equal the distinct keys, or loadgen exits 1.\n")
	l.p("### Baseline: a bare PutItem\n")
	l.p("One PutItem of an idempotency-record-sized item on the API's own DynamoDB client, measured before, between and after the scenarios (each ratio above divides by the mean of the phases either side of its scenario): alone, one at a time; and loaded, %d at once like the clients.\n", o.clients)
	l.table("lrrrrrr", base...)
	l.p("The API's latency includes HTTP on loopback, JSON, the claim and the completion; on a machine with few CPUs it also shares them with DynamoDB Local and the clients, so under load the ratio at the same concurrency is the fairer one. One request at a time, without HTTP, the ratio is what `BenchmarkDynamoDB` (internal/idem, the first half of `make bench`) prints as x-putitem.\n")
	return oneAtATime(ctx, s, rep, run)
}

// oneAtATime runs each path one request at a time, each after a bare PutItem and before a GET
// of an unknown path (HTTP alone); each replay also before a failed conditional PutItem of its
// own record (ALL_OLD).
func oneAtATime(ctx context.Context, s *system, rep *report, run string) error {
	rep.logf("one request at a time, each after a bare PutItem, %s per path ...", rep.o.seqLen)
	one, putItem, replayKey := httpClient(1), ddbCall(ctx, s.putItem), run+"-sequential-replay"
	post := func(key string) *vegeta.Result {
		return hit(ctx, one, checkouts(s.url, func(uint64) string { return key }))
	}
	var record map[string]types.AttributeValue // the replayed key's
	condPut := ddbCall(ctx, func(ctx context.Context) error {
		_, err := s.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.cfg.IdempotencyTable), Item: record,
			ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": idem.PartitionKey},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
		if ccf := (*types.ConditionalCheckFailedException)(nil); errors.As(err, &ccf) {
			return nil
		}
		return fmt.Errorf("the conditional PutItem of a stored record did not fail its condition: %v", err)
	})
	rows := [][]string{{"path", "requests", "p50", "p99", "PutItem p50", "p50 / PutItem p50", "HTTP round trip p50", "(p50 - HTTP) / PutItem p50",
		"DynamoDB req / API req", "distinct keys", "orders", "charges"}}
	var condLine string
	for _, path := range []string{"unique", "replay"} {
		api, put, get, cond := &vegeta.Metrics{}, &vegeta.Metrics{}, &vegeta.Metrics{}, &vegeta.Metrics{}
		ddbReqs, orders, charges, err := s.counted(ctx, func(begin func()) error {
			if path == "replay" {
				if r := post(replayKey); r.Code != http.StatusCreated { // completes the key; not measured
					return fmt.Errorf("one at a time: the replay's first request answered %d %s", r.Code, r.Body)
				}
				out, err := s.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.cfg.IdempotencyTable), ConsistentRead: aws.Bool(true),
					Key: map[string]types.AttributeValue{idem.PartitionKey: ddb.S(idem.ScopedKey(checkout.Scope, "", replayKey))}})
				if record = out.Item; err != nil || len(record) == 0 {
					return fmt.Errorf("one at a time: the replayed key's record: %v", err)
				}
			}
			begin()
			for i, end := 0, time.Now().Add(rep.o.seqLen); time.Now().Before(end) && ctx.Err() == nil; i++ {
				put.Add(hit(ctx, putItem, anyTarget))
				api.Add(post(map[bool]string{true: fmt.Sprintf("%s-sequential-%d", run, i), false: replayKey}[path == "unique"]))
				get.Add(hit(ctx, one, vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: s.url + "/loadgen-http-baseline"})))
				if path == "replay" {
					cond.Add(hit(ctx, condPut, anyTarget))
				}
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
		for _, m := range []*vegeta.Metrics{api, put, get, cond} {
			m.Close()
		}
		keys := map[string]int{"unique": int(api.Requests), "replay": 1}[path]
		if len(put.Errors)+len(cond.Errors) > 0 || api.StatusCodes["201"] != int(api.Requests) || orders != keys || charges != keys {
			rep.fail("one at a time, %s: %d distinct keys made %d orders and %d charges; statuses %s; DynamoDB errors %v %v",
				path, keys, orders, charges, statuses(api), put.Errors, cond.Errors)
		}
		ddbReqs -= int64(put.Requests + cond.Requests)
		p50, h, p := float64(api.Latencies.P50), float64(get.Latencies.P50), float64(put.Latencies.P50)
		rows = append(rows, []string{path, fmt.Sprint(api.Requests), ms(api.Latencies.P50), ms(api.Latencies.P99), ms(put.Latencies.P50), x(p50, p),
			ms(get.Latencies.P50), x(p50-h, p), fmt.Sprintf("%.2f", float64(ddbReqs)/float64(api.Requests)), fmt.Sprint(keys), fmt.Sprint(orders), fmt.Sprint(charges)})
		rep.logf("  %s", strings.Join(rows[len(rows)-1], "  "))
		if r := p50 / float64(cond.Latencies.P50); cond.Requests > 0 {
			condLine = fmt.Sprintf("Replay p50 / a failed conditional PutItem (ALL_OLD) of the replayed key's own record on the same client, measured after each replay (%d): %s / %s = %.2f x: %s (≤ 1.5 x).\n",
				cond.Requests, ms(api.Latencies.P50), ms(cond.Latencies.P50), r, met(r <= 1.5))
		}
	}
	l := &rep.load
	l.p("### One request at a time\n")
	l.p("One client, each request preceded by a bare PutItem on the API's DynamoDB client (interleaved, so the drift of a shared machine affects both alike): the latency of the API itself, without the queueing above.\n")
	l.table("lrrrrrrrrrrr", rows...)
	l.p("%s", condLine)
	l.p("The HTTP round trip is a GET of an unknown path on the same server, measured after each request: the client, loopback, routing, the access log and a 404 problem, without DynamoDB. Subtracting it leaves what the idempotency engine, the order and the payment add to the DynamoDB round trips.\n")
	l.p("The first-time path makes three DynamoDB requests (the claim, a conditional PutItem of the record; the reservation, one transaction of the order, created, and its stock takes; the completion, one transaction of the record's answer and the order's outcome) and calls the payment provider (in process here); a replay is the one losing claim, which returns the stored response (ALL_OLD).\n")
	return nil
}

func met(ok bool) string { return map[bool]string{true: "met", false: "**missed**"}[ok] }
