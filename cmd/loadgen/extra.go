package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/checkout-idem/checkout/cmd/loadgen/capacity"
	"github.com/checkout-idem/checkout/cmd/loadgen/coldstart"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/testenv"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// On-demand prices of DynamoDB, Standard table class (USD per million request units), as
// quoted after AWS halved them on 1 November 2024, checked against stored copies of the pricing
// pages; Stripe's standard US card price, for scale; the per-partition limits of a table.
const (
	priceWRU, priceRRU         = 0.625, 0.125
	priceRegion, priceChecked  = "US East (N. Virginia), us-east-1", "2026-11-30"
	stripePercent, stripeFixed = 0.029, 0.30
	checkoutUSD                = 19.99 // the bench's checkout
	partitionRCU, partitionWCU = 3000, 1000
	webhookSecret              = "whsec_loadgen_coldstart_only" // signs every webhook event of loadgen
	targetSize, targetInit     = 10_000_000, 50 * time.Millisecond
)

func perMillion(rcu, wcu float64) float64 { return rcu*priceRRU + wcu*priceWRU }

// calls keeps the DynamoDB requests of a client (capacity.Option), with their time.
type calls struct {
	mu   sync.Mutex
	list []capacity.Call
	at   []time.Time
}

func (c *calls) record(x capacity.Call) {
	c.mu.Lock()
	c.list, c.at = append(c.list, x), append(c.at, time.Now())
	c.mu.Unlock()
}

func (c *calls) take() ([]capacity.Call, []time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, at := c.list, c.at
	c.list, c.at = nil, nil
	return l, at
}

// measureCapacity runs each operation once, in order, through the HTTP handlers on fresh
// tables: a checkout with a card, its replay, a checkout without a card (the order stays
// pending), the webhook that marks that order paid, and the same event delivered again.
func measureCapacity(ctx context.Context, sys *system, rep *report) error {
	rep.logf("capacity: one operation at a time, consumed capacity asked of DynamoDB ...")
	rec := &calls{}
	h, _, _, err := localAPI(ctx, sys, "capacity-"+randomID(), capacity.Option(rec.record))
	if err != nil {
		return err
	}
	m := &rep.capacity
	m.p("## Capacity units per operation\n")
	m.p("Each operation once, one at a time, through the HTTP handlers on fresh tables, with the capacity middleware on " +
		"the DynamoDB client (every request asks `ReturnConsumedCapacity=TOTAL`). DynamoDB Local returns consumed capacity " +
		"for successful single-item requests (PutItem, UpdateItem, GetItem: they match the documented rules); it returns " +
		"nothing for a failed condition (the answer is an error) and, for a transaction, repeats the whole transaction's " +
		"units once per table it touches. Those are **computed** from the documented rules: 1 WCU per KB written " +
		"(rounded up), 2 per KB in a transaction (every item, ConditionCheck included; an Update or ConditionCheck whose " +
		"item was not returned counts 1 KB); a failed conditional write consumes 1 WCU per KB of the existing item; a " +
		"strongly consistent read 1 RCU per 4 KB. A cancelled transaction is counted as the transactional write it " +
		"attempted: an upper bound, since the documentation does not state what a cancelled transaction is charged.\n")
	rows := [][]string{{"operation", "DynamoDB requests", "RCU", "WCU", "computed / returned", "what Local returned (CU)", "requests"}}
	var ops []callStats
	serve := func(name, path string, body []byte, want int, header ...string) []byte {
		rec.take()
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, path, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(header[0], header[1])
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		list, _ := rec.take()
		cs, localCU, reqs := summarizeCalls(list, 1), 0.0, []string{}
		for _, c := range list {
			localCU += max(c.CU, 0)
			reqs = append(reqs, c.Op+map[bool]string{true: "", false: " (" + strings.TrimSuffix(c.Err, "Exception") + ")"}[c.OK])
		}
		if w.Code != want {
			rep.fail("capacity, %s: status %d, want %d: %s", name, w.Code, want, strings.TrimSpace(w.Body.String()))
		}
		ops = append(ops, cs)
		rows = append(rows, []string{name, fmt.Sprint(cs.requests), fmt.Sprintf("%.1f", cs.rcu), fmt.Sprintf("%.1f", cs.wcu),
			fmt.Sprintf("%d / %d", cs.computed, cs.returned), fmt.Sprintf("%.1f", localCU), strings.Join(reqs, ", ")})
		return w.Body.Bytes()
	}
	key := "capacity-" + randomID()
	serve("checkout, first request", "/checkout", []byte(checkoutBody), http.StatusCreated, idem.KeyHeader, key)
	serve("checkout, replay", "/checkout", []byte(checkoutBody), http.StatusCreated, idem.KeyHeader, key)
	pending := serve("checkout without a card (for the webhook)", "/checkout", []byte(pendingBody), http.StatusCreated, idem.KeyHeader, key+"-pending")
	var order struct {
		OrderID string `json:"order_id"`
	}
	if err := json.Unmarshal(pending, &order); err != nil || order.OrderID == "" {
		return fmt.Errorf("the pending checkout answered %q", pending)
	}
	raw, err := readEvent("webhook-stripe.json")
	if err != nil {
		return err
	}
	body, err := webhookPayload(raw, "evt_capacity_"+randomID(), order.OrderID)
	if err != nil {
		return err
	}
	for _, name := range []string{"webhook delivery", "webhook, duplicate delivery"} { // the duplicate: Stripe's retry, signed anew
		serve(name, "/webhooks", body, http.StatusOK, "Stripe-Signature", webhook.SignStripe(webhookSecret, time.Now(), body))
	}
	if pt := rep.ptCalls; pt != nil {
		for _, path := range paths {
			cs := pt[path]
			rows = append(rows, []string{fmt.Sprintf("Powertools peer, %s (mean of %d)", path, cs.invocations), fmt.Sprintf("%.2f", cs.per(float64(cs.requests))),
				fmt.Sprintf("%.2f", cs.per(cs.rcu)), fmt.Sprintf("%.2f", cs.per(cs.wcu)), fmt.Sprintf("%d / %d", cs.computed, cs.returned), "–", "from the side-by-side"})
		}
	}
	rows = append(rows, []string{"reconciler, per stuck order (calculated)", "a share of 1 Query + 1 UpdateItem", "≤ 0.125", "about 2", "calculated", "–",
		"calculated from the documented rules, not measured: the pass lists stuck orders with an eventually consistent Query on the sparse GSI `" +
			orders.OpenIndex + "` (one per open status; 0.5 RCU per 4 KB returned, at least 0.5 RCU per Query), shared by a page of up to " +
			"RECONCILE_LIMIT orders, then settles each with one conditional UpdateItem (about 1 WCU for an order under 1 KB, plus 1 WCU for " +
			"the index entry it removes when the order leaves created or pending): about 2 WCU and at most 0.125 RCU per stuck order (four " +
			"orders under 1 KB to 4 KB), plus the Queries' floor of 0.5 RCU each, which a pass pays even when nothing is stuck"})
	m.table("lrrrlrl", rows...)
	first, replay, hook, dup := ops[0], ops[1], ops[3], ops[4]
	rep.replayWCU = replay.wcu
	m.p("### On-demand cost per million checkouts\n")
	m.p("Prices: $%.3f per million write request units and $%.3f per million read request units, on-demand, Standard "+
		"table class, %s, as listed on aws.amazon.com/dynamodb/pricing/on-demand/ since AWS halved on-demand prices on "+
		"1 November 2024 (checked %s against stored copies of the pricing pages, not the live page; check the page before "+
		"relying on it). Storage, backups, streams and data transfer are not included.\n", priceWRU, priceRRU, priceRegion, priceChecked)
	rows = [][]string{{"per million", "RCU", "WCU", "cost (USD)"}}
	line := func(label string, r, w float64) {
		rows = append(rows, []string{label, fmt.Sprintf("%.1f M", r), fmt.Sprintf("%.1f M", w), fmt.Sprintf("%.2f", perMillion(r, w))})
	}
	line("checkouts (first request only)", first.rcu, first.wcu)
	line("checkouts + one webhook delivery each", first.rcu+hook.rcu, first.wcu+hook.wcu)
	line("… + one replay and one duplicate delivery each (a retrying client, a redelivering provider)",
		first.rcu+hook.rcu+replay.rcu+dup.rcu, first.wcu+hook.wcu+replay.wcu+dup.wcu)
	if pt := rep.ptCalls; pt != nil {
		cs := pt[pathFirst]
		line("Powertools peer's checkouts (first request only)", cs.per(cs.rcu), cs.per(cs.wcu))
		m.table("lrrr", rows...)
		extra, fee := perMillion(first.rcu, first.wcu)-perMillion(cs.per(cs.rcu), cs.per(cs.wcu)), stripePercent*checkoutUSD+stripeFixed
		m.p("What the extra safety costs: our first request writes %.1f WCU against the peer's %.1f (the claim is a "+
			"transaction that writes the order in state created, the completion a transaction that settles it: every "+
			"item counts twice), **$%.2f more per million checkouts**. The payment itself, at Stripe's standard US card price "+
			"(2.9%% + $0.30) on the bench's $%.2f checkout, costs $%.2f each: $%s per million, %s times the extra DynamoDB cost.\n",
			first.wcu, cs.per(cs.wcu), extra, checkoutUSD, fee, commas(fee*1e6), commas(math.Round(fee*1e6/extra)))
	} else {
		m.table("lrrr", rows...)
	}
	return nil
}

// commas writes v rounded with thousands separators.
func commas(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// runStorm sends n requests with one new key at once (n vegeta workers, one request each) to
// a fresh checkout API on loopback with n connections, and checks exactly one order and one
// charge, and that every other answer is the first answer byte for byte or a 409 with
// Retry-After.
func runStorm(ctx context.Context, sys *system, rep *report) error {
	n := rep.o.bigStorm
	rep.logf("storm: %d concurrent duplicates of one key ...", n)
	rec := &calls{}
	h, deps, cfg, err := localAPI(ctx, sys, "storm-"+randomID(), capacity.Option(rec.record))
	if err != nil {
		return err
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	key, lat, first := "storm-"+randomID(), &vegeta.Metrics{}, []byte(nil)
	identical, retryAfter := 0, 0
	rec.take() // table creation is not part of the storm
	elapsed := attack(ctx, httpClient(n), n, n, 0, checkouts(srv.URL, func(uint64) string { return key }), func(r *vegeta.Result) {
		lat.Add(r)
		switch {
		case r.Code == http.StatusCreated && first == nil:
			first, identical = r.Body, 1
		case r.Code == http.StatusCreated && bytes.Equal(r.Body, first):
			identical++
		case r.Code == http.StatusConflict && r.Headers.Get("Retry-After") != "":
			retryAfter++
		}
	})
	list, at := rec.take()
	closed(lat)
	charges := deps.Payments.(*payment.Local).Created()
	ordersMade, err := testenv.ScanCount(ctx, deps.DynamoDB, cfg.OrdersTable)
	if err != nil {
		return err
	}
	if bad := n - identical - retryAfter; bad > 0 {
		rep.fail("storm: %d answers neither the first answer byte for byte nor a 409 with Retry-After (statuses %s)", bad, statuses(lat))
	}
	if ordersMade != 1 || charges != 1 {
		rep.fail("storm: %d orders and %d charges for one key", ordersMade, charges)
	}
	byOp := map[string]int{}
	var rcu, wcu, peakRCU, peakWCU float64
	peakReads := 0
	for i, c := range list { // the largest units and GetItems in any second starting at a request
		byOp[c.Op]++
		r, w, _ := c.Units()
		rcu, wcu = rcu+r, wcu+w
		var sr, sw float64
		reads := 0
		for j := range list {
			if d := at[j].Sub(at[i]); d >= 0 && d < time.Second {
				r, w, _ := list[j].Units()
				sr, sw, reads = sr+r, sw+w, reads+map[bool]int{true: 1}[list[j].Op == "GetItem"]
			}
		}
		peakRCU, peakWCU, peakReads = max(peakRCU, sr), max(peakWCU, sw), max(peakReads, reads)
	}
	var ops []string
	for _, op := range slices.Sorted(maps.Keys(byOp)) {
		ops = append(ops, fmt.Sprintf("%s %d", op, byOp[op]))
	}
	rep.logf("  %d duplicates in %s: statuses %s, %d identical, %d 409 + Retry-After, orders %d, charges %d, DynamoDB %s",
		n, elapsed.Round(time.Millisecond), statuses(lat), identical, retryAfter, ordersMade, charges, strings.Join(ops, ", "))
	m := &rep.storm
	m.p("## A storm on one key\n")
	m.p("%d requests with one new Idempotency-Key, sent at once (%d vegeta workers, started before the first request, one "+
		"request each) from %d connections to the checkout API on loopback (internal/localapi over a fresh DynamoDB Local "+
		"table, the local payment provider), IDEMPOTENCY_WAIT at its default.\n", n, n, n)
	m.table("ll", []string{"", ""}, []string{"wall time", elapsed.Round(time.Millisecond).String()},
		[]string{"statuses", strings.ReplaceAll(statuses(lat), " x", " × ")},
		[]string{"first answer + byte-identical replays", fmt.Sprintf("1 + %d", max(identical-1, 0))},
		[]string{"409 with Retry-After", fmt.Sprint(retryAfter)}, []string{"orders / charges", fmt.Sprintf("%d / %d", ordersMade, charges)},
		[]string{"latency p50 / p99", ms(lat.Latencies.P50) + " / " + ms(lat.Latencies.P99)},
		[]string{"DynamoDB requests", fmt.Sprintf("%d in all, %.2f per duplicate (%s)", len(list), float64(len(list))/float64(n), strings.Join(ops, ", "))},
		[]string{"units (the key's record and its order)", fmt.Sprintf("%.0f RCU and %.0f WCU in all; at most %.0f RCU and %.0f WCU in any one second (per-partition limits: %d and %d)",
			rcu, wcu, peakRCU, peakWCU, partitionRCU, partitionWCU)},
		[]string{"waiters' polls (strongly consistent GetItem)", fmt.Sprintf("%d in all, at most %d in any one second", byOp["GetItem"], peakReads)})
	// The engine's schedule (internal/idem): PollFirst doubling to PollMax, each delay drawn
	// between half and all of it; at worst every delay is its half. Each duplicate's claim is a
	// cancelled transaction, as a replay's is.
	polls, steady := pollsPerSecond(idem.PollFirst/2, idem.PollMax/2)
	claimWCU, claimFrom := 4.0, "two items under 1 KB in a transaction"
	if rep.replayWCU > 0 {
		claimWCU, claimFrom = rep.replayWCU, "as the capacity table's replay"
	}
	m.p("On DynamoDB Local the claims queue behind one another; the duplicates polled the record %d times in all. "+
		"The worst case on a real table is a first request that takes longer (a slow provider) while all %d wait: "+
		"the engine's poll schedule (internal/idem: %s doubling to %s, each delay drawn between half and all "+
		"of it) makes at most %d strongly consistent reads per waiter in the first second and %.1f per second after, "+
		"so %d waiters read the one item at most %d times in the first second and %.0f times a second after (1 RCU "+
		"each, items under 4 KB), against the partition's %d RCU/s: %s. Their %d claims are failed transactional "+
		"writes on the same item, up to %.0f WCU at once (counted as attempted, %.0f WCU each: %s) against %d WCU/s: a "+
		"burst that size is throttled and retried by the SDK whatever the polling does.\n", byOp["GetItem"],
		n, shortDur(idem.PollFirst), shortDur(idem.PollMax), polls, steady, n, polls*n, steady*float64(n), partitionRCU,
		map[bool]string{true: "within the limit", false: "over the limit in the first second"}[polls*n <= partitionRCU],
		n, claimWCU*float64(n), claimWCU, claimFrom, partitionWCU)
	return nil
}

// shortDur writes d as whole seconds or milliseconds ("1 s", "200 ms").
func shortDur(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return fmt.Sprintf("%d ms", d/time.Millisecond)
}

// pollsPerSecond is how many polls one waiter makes in its first second and per second after,
// for a schedule starting at initial and doubling up to ceiling (no jitter).
func pollsPerSecond(initial, ceiling time.Duration) (first int, steady float64) {
	for at, d := initial, initial; at <= time.Second; at, d = at+min(2*d, ceiling), min(2*d, ceiling) {
		first++
	}
	return first, float64(time.Second) / float64(ceiling)
}

// readEvent reads a file of events/.
func readEvent(name string) ([]byte, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(root, "events", name))
}

// webhookPayload is the body of events/webhook-stripe.json with event id id, about orderID
// (none: as it is).
func webhookPayload(raw []byte, id, orderID string) ([]byte, error) {
	var ev struct{ Body string }
	var payload map[string]any
	err := json.Unmarshal(raw, &ev)
	if err == nil {
		var body []byte
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err == nil {
			err = json.Unmarshal(body, &payload)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("events/webhook-stripe.json: %w", err)
	}
	payload["id"] = id
	if orderID != "" {
		data, _ := payload["data"].(map[string]any)
		obj, _ := data["object"].(map[string]any)
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			return nil, fmt.Errorf("events/webhook-stripe.json: no data.object.metadata")
		}
		meta["order_id"] = orderID
	}
	return json.Marshal(payload)
}

// webhookEvent is events/webhook-stripe.json carrying body, signed now with webhookSecret:
// the function verifies it and applies it.
func webhookEvent(raw, body []byte) ([]byte, error) {
	var ev map[string]any
	_ = json.Unmarshal(raw, &ev)
	h, _ := ev["headers"].(map[string]any)
	if h == nil {
		return nil, fmt.Errorf("events/webhook-stripe.json: no headers")
	}
	h["stripe-signature"] = webhook.SignStripe(webhookSecret, time.Now(), body)
	h["content-length"] = strconv.Itoa(len(body))
	ev["body"], ev["isBase64Encoded"] = base64.StdEncoding.EncodeToString(body), true
	return json.Marshal(ev)
}

// runColdstart builds the checkout and webhook bootstraps, for this machine (to run them) and
// for linux/arm64 as `make build` does (for their size), and starts each one o.coldRuns times
// against the system's DynamoDB, one event each: a checkout with a new key, or a webhook with a
// new event id about an order the checkout cold starts created.
func runColdstart(ctx context.Context, sys *system, rep *report) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "loadgen-coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rep.logf("cold starts: building the bootstraps, then %d cold starts per function ...", rep.o.coldRuns)
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "TZ=:UTC", "LANG=C.UTF-8", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023", "_HANDLER=bootstrap",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		config.EnvIdempotencyTable + "=" + sys.cfg.IdempotencyTable, config.EnvOrdersTable + "=" + sys.cfg.OrdersTable,
		config.EnvCatalogTable + "=" + sys.cfg.CatalogTable, config.EnvDynamoDBEndpoint + "=" + sys.endpoint,
		config.EnvStripeWebhookSecret + "=" + webhookSecret,
		config.EnvPaymentProvider + "=" + config.ProviderLocal, // the functions fail closed: local only when chosen
	}
	run, orderIDs := randomID(), []string{}
	rows := [][]string{{"function", "runs", "init p50", "init max", "first answer p50", "first answer max", "statuses", "peak RSS",
		runtime.GOOS + "/" + runtime.GOARCH + " size", "linux/arm64 size (deployed)"}}
	var verdicts, answers, problems []string
	for _, f := range []struct{ name, pkg, event string }{
		{"CheckoutFunction", "./functions/checkout", "checkout.json"}, {"WebhookFunction", "./functions/webhook", "webhook-stripe.json"}} {
		bin := filepath.Join(dir, f.name, "bootstrap")
		hostSize, err := coldstart.Build(ctx, root, f.pkg, runtime.GOOS, runtime.GOARCH, bin)
		armSize := int64(0)
		if err == nil {
			armSize, err = coldstart.Build(ctx, root, f.pkg, "linux", "arm64", filepath.Join(dir, f.name, "arm64", "bootstrap"))
		}
		raw, rerr := readEvent(f.event)
		checkoutEvent, cerr := checkoutEvents(raw)
		if err = cmp.Or(err, rerr); err != nil || (f.name == "CheckoutFunction" && cerr != nil) {
			rows = append(rows, []string{f.name, "-", "-", "-", "-", "-", "does not build", "-", "-", "-"})
			problems = append(problems, fmt.Sprintf("%s does not build: %s", f.name, oneLine(fmt.Sprint(cmp.Or(err, cerr)))))
			continue
		}
		fenv := append(env[:len(env):len(env)], "AWS_LAMBDA_FUNCTION_NAME=checkout-"+f.name,
			"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/checkout-"+f.name, "AWS_LAMBDA_LOG_STREAM_NAME=loadgen")
		inits, firsts, codes, rss, last := &vegeta.Metrics{}, &vegeta.Metrics{}, &vegeta.Metrics{}, int64(0), ""
		for i := range rep.o.coldRuns {
			event := checkoutEvent(fmt.Sprintf("coldstart-%s-%d", run, i))
			if f.name == "WebhookFunction" {
				orderID := ""
				if len(orderIDs) > 0 {
					orderID = orderIDs[i%len(orderIDs)]
				}
				body, err := webhookPayload(raw, fmt.Sprintf("evt_coldstart_%s_%d", run, i), orderID)
				if err == nil {
					event, err = webhookEvent(raw, body)
				}
				if err != nil {
					return err
				}
			}
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			p, err := coldstart.StartPool(cctx, 1, []string{bin}, filepath.Dir(bin), fenv, nil)
			var resp coldstart.Response
			if err == nil {
				resp, err = p.Invoke(cctx, event)
				rss = max(rss, p.Stop())
			}
			cancel()
			if err == nil && resp.Error {
				err = fmt.Errorf("the handler failed: %s", resp.Body)
			}
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s failed after %d runs: %s", f.name, i, oneLine(err.Error())))
				break
			}
			inits.Add(&vegeta.Result{Latency: p.Inits[0]})
			firsts.Add(&vegeta.Result{Latency: resp.At.Sub(p.Started[0])})
			codes.Add(&vegeta.Result{Code: uint16(answerStatus(resp.Body))})
			last = oneLine(string(answeredBody(resp.Body)))
			var o struct {
				OrderID string `json:"order_id"`
			}
			if json.Unmarshal(answeredBody(resp.Body), &o) == nil && o.OrderID != "" {
				orderIDs = append(orderIDs, o.OrderID)
			}
		}
		closed(inits)
		closed(firsts)
		closed(codes)
		rows = append(rows, []string{f.name, fmt.Sprint(inits.Requests), ms(inits.Latencies.P50), ms(inits.Latencies.Max), ms(firsts.Latencies.P50),
			ms(firsts.Latencies.Max), statuses(codes), fmt.Sprintf("%.1f MiB", float64(rss)/(1<<20)), mib(hostSize), mib(armSize)})
		rep.logf("  %s", strings.Join(rows[len(rows)-1], "  "))
		if inits.Requests > 0 {
			verdicts = append(verdicts, fmt.Sprintf("%s: linux/arm64 bootstrap under 10 MB (%.2f MB): %s; init under %s (p50 %s; max %s): %s.", f.name,
				float64(armSize)/1e6, metNot(armSize > 0 && armSize < targetSize), targetInit, ms(inits.Latencies.P50), ms(inits.Latencies.Max),
				metNot(inits.Latencies.P50 < targetInit)))
		}
		if len(last) > 200 {
			last = last[:200] + "..."
		}
		if last != "" {
			answers = append(answers, fmt.Sprintf("%s's last answer: `%s`", f.name, last))
		}
	}
	m := &rep.cold
	m.p("## Cold start\n")
	m.p("Each bootstrap is built with the Makefile's flags (`CGO_ENABLED=0 %s`) for this machine (%s/%s), started as a "+
		"process whose `AWS_LAMBDA_RUNTIME_API` is a fake Runtime API in loadgen, and handed one event: a checkout with a new "+
		"Idempotency-Key (claim, order, charge, completion), or a Stripe webhook (payment_intent.succeeded) with a new event "+
		"id, about an order the checkout cold starts created, signed with the configured secret. **init** is process start "+
		"to its first `GET /runtime/invocation/next`; **first answer** is process start to its `POST .../response`, DynamoDB "+
		"Local round trips included. The Lambda service's own part (sandbox, code download) is not in these figures.\n",
		strings.Replace(strings.Join(coldstart.BuildFlags, " "), "-s -w", `"-s -w"`, 1), runtime.GOOS, runtime.GOARCH)
	m.table("lrrrrrlrrr", rows...)
	m.list(slices.Concat(verdicts, answers, problems))
	return nil
}

func metNot(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
