package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
)

// On-demand prices of DynamoDB, Standard table class, in priceRegion (USD per million request
// units). Source: aws.amazon.com/dynamodb/pricing/on-demand/ as quoted after AWS halved its
// on-demand prices on 1 November 2024; checked on priceChecked against stored copies of
// pricing pages (not the live page).
const (
	priceWRU     = 0.625
	priceRRU     = 0.125
	priceRegion  = "US East (N. Virginia), us-east-1"
	priceChecked = "2026-11-30"
	// Stripe's standard US online card price, for scale: 2.9% + 30 cents.
	stripePercent = 0.029
	stripeFixed   = 0.30
	checkoutUSD   = 19.99 // the bench's checkout: amount 1999
)

// perMillion is the on-demand cost in USD of a million operations of rcu and wcu units each.
func perMillion(rcu, wcu float64) float64 { return rcu*priceRRU + wcu*priceWRU }

func writeCapacityMarkdown(p func(string, ...any), c *capacityReport, peer *peerReport) {
	p("## Capacity units per operation")
	p("")
	p("Each operation once, one at a time, through the HTTP handlers on fresh tables, with the capacity middleware on " +
		"the DynamoDB client (every request asks `ReturnConsumedCapacity=TOTAL`). DynamoDB Local returns consumed capacity " +
		"for successful single-item requests (PutItem, UpdateItem, GetItem: they match the documented rules); it returns " +
		"nothing for a failed condition (the answer is an error) and, for a transaction, repeats the whole transaction's " +
		"units once per table it touches. Those are **computed** from the documented rules: 1 WCU per KB written " +
		"(rounded up), 2 per KB in a transaction (every item, ConditionCheck included; an Update or ConditionCheck whose " +
		"item was not returned counts 1 KB); a failed conditional write consumes 1 WCU per KB of the existing item; a " +
		"strongly consistent read 1 RCU per 4 KB. A cancelled transaction is counted as the transactional write it " +
		"attempted: an upper bound, since the documentation does not state what a cancelled transaction is charged.")
	p("")
	p("| operation | DynamoDB requests | RCU | WCU | computed / returned | what Local returned (CU) | requests |")
	p("| --- | ---: | ---: | ---: | --- | ---: | --- |")
	for _, op := range c.ops {
		var reqs []string
		for _, call := range op.calls {
			s := call.Op
			if !call.OK {
				s += " (" + strings.TrimSuffix(call.Err, "Exception") + ")"
			}
			reqs = append(reqs, s)
		}
		p("| %s | %d | %.1f | %.1f | %d / %d | %.1f | %s |", op.name, op.stats.requests, op.stats.rcu, op.stats.wcu,
			op.stats.computed, op.stats.returned, op.localCU, strings.Join(reqs, ", "))
	}
	if peer != nil {
		pt := peer.sides[1]
		for _, path := range []string{pathFirst, pathReplay} {
			cs := pt.calls[path]
			p("| Powertools peer, %s (mean of %d) | %.2f | %.2f | %.2f | %d / %d | – | from the side-by-side |", pathName(path),
				cs.invocations, cs.per(float64(cs.requests)), cs.per(cs.rcu), cs.per(cs.wcu), cs.computed, cs.returned)
		}
	}
	p("| reconciler, per stuck order (calculated) | a share of 1 Query + 1 UpdateItem | ≤ 0.125 | about 2 | calculated | – | "+
		"calculated from the documented rules, not measured: the pass lists stuck orders with an eventually consistent "+
		"Query on the sparse GSI `%s` (one per open status; 0.5 RCU per 4 KB returned, at least 0.5 RCU per Query), "+
		"shared by a page of up to RECONCILE_LIMIT orders, then settles each with one conditional UpdateItem (about "+
		"1 WCU for an order under 1 KB, plus 1 WCU for the index entry it removes when the order leaves created or "+
		"pending): about 2 WCU and at most 0.125 RCU per stuck order (four orders under 1 KB to 4 KB), plus the "+
		"Queries' floor of 0.5 RCU each, which a pass pays even when nothing is stuck |", orders.OpenIndex)
	p("")
	first, replay, hook, dup := c.find("checkout, first request"), c.find("checkout, replay"), c.find("webhook delivery"), c.find("webhook, duplicate delivery")
	if first == nil || hook == nil {
		return
	}
	p("### On-demand cost per million checkouts")
	p("")
	p("Prices: $%.3f per million write request units and $%.3f per million read request units, on-demand, Standard "+
		"table class, %s, as listed on aws.amazon.com/dynamodb/pricing/on-demand/ since AWS halved on-demand prices on "+
		"1 November 2024 (checked %s against stored copies of the pricing pages, not the live page; check the page before "+
		"relying on it). Storage, backups, streams and data transfer are not included.", priceWRU, priceRRU, priceRegion, priceChecked)
	p("")
	p("| per million | RCU | WCU | cost (USD) |")
	p("| --- | ---: | ---: | ---: |")
	line := func(label string, r, w float64) { p("| %s | %.1f M | %.1f M | %.2f |", label, r, w, perMillion(r, w)) }
	line("checkouts (first request only)", first.stats.rcu, first.stats.wcu)
	line("checkouts + one webhook delivery each", first.stats.rcu+hook.stats.rcu, first.stats.wcu+hook.stats.wcu)
	if replay != nil && dup != nil {
		line("… + one replay and one duplicate delivery each (a retrying client, a redelivering provider)",
			first.stats.rcu+hook.stats.rcu+replay.stats.rcu+dup.stats.rcu, first.stats.wcu+hook.stats.wcu+replay.stats.wcu+dup.stats.wcu)
	}
	if peer != nil {
		cs := peer.sides[1].calls[pathFirst]
		line("Powertools peer's checkouts (first request only)", cs.per(cs.rcu), cs.per(cs.wcu))
		extra := perMillion(first.stats.rcu, first.stats.wcu) - perMillion(cs.per(cs.rcu), cs.per(cs.wcu))
		fee := stripePercent*checkoutUSD + stripeFixed
		p("")
		p("What the extra safety costs: our first request writes %.1f WCU against the peer's %.1f (the claim is a "+
			"transaction that writes the order in state created, the completion a transaction that settles it: every "+
			"item counts twice), "+
			"**$%.2f more per million checkouts**. The payment itself, at Stripe's standard US card price (2.9%% + $0.30) on "+
			"the bench's $%.2f checkout, costs $%.2f each: $%s per million, %s times the extra DynamoDB cost.",
			first.stats.wcu, cs.per(cs.wcu), extra, checkoutUSD, fee, commas(fee*1e6), commas(math.Round(fee*1e6/extra)))
	}
	p("")
}

func (c *capacityReport) find(name string) *capacityOp {
	for i := range c.ops {
		if c.ops[i].name == name {
			return &c.ops[i]
		}
	}
	return nil
}

// commas writes v rounded with thousands separators.
func commas(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func writeStormMarkdown(p func(string, ...any), s *stormReport, c *capacityReport) {
	p("## A storm on one key")
	p("")
	p("%d requests with one new Idempotency-Key, released at the same moment (a gate) from %d connections to the "+
		"checkout API on loopback (internal/localapi over a fresh DynamoDB Local table, the local payment provider), "+
		"IDEMPOTENCY_WAIT at its default.", s.duplicates, s.duplicates)
	p("")
	p("| | |")
	p("| --- | --- |")
	p("| wall time | %s |", s.elapsed.Round(time.Millisecond))
	p("| statuses | %s |", statusList(s.statuses))
	p("| first answer + byte-identical replays | 1 + %d |", s.replays())
	p("| 409 with Retry-After | %d |", s.retryAfter)
	p("| orders / charges | %d / %d |", s.orders, s.charges)
	p("| latency p50 / p99 | %s / %s |", ms(s.p50), ms(s.p99))
	p("| DynamoDB requests | %d in all, %.2f per duplicate (%s) |", s.requests, float64(s.requests)/float64(s.duplicates), opList(s.byOp))
	p("| units (the key's record and its order) | %.0f RCU and %.0f WCU in all; at most %.0f RCU and %.0f WCU in any one second (per-partition limits: %d and %d) |",
		s.rcu, s.wcu, s.peakRCU, s.peakWCU, partitionRCU, partitionWCU)
	p("| waiters' polls (strongly consistent GetItem) | %d in all, at most %d in any one second |", s.byOp["GetItem"], s.peakReads)
	p("")
	// The engine's schedule (internal/idem): PollFirst doubling to PollMax, each delay drawn
	// between half and all of it; at worst every delay is its half.
	first, steady := pollsPerSecond(idem.PollFirst/2, idem.PollMax/2)
	// Each duplicate's claim is a cancelled transaction, as a replay's is; without the capacity
	// table, the documented rules for its two items of under 1 KB.
	claimWCU, claimFrom := 4.0, "two items under 1 KB in a transaction"
	if c != nil {
		if r := c.find("checkout, replay"); r != nil && r.stats.wcu > 0 {
			claimWCU, claimFrom = r.stats.wcu, "as the capacity table's replay"
		}
	}
	verdict := "within the limit"
	if first*s.duplicates > partitionRCU {
		verdict = "over the limit in the first second"
	}
	p("On DynamoDB Local the claims queue behind one another; the duplicates polled the record %d times in all. "+
		"The worst case on a real table is a first request that takes longer (a slow provider) while all %d wait: "+
		"the engine's poll schedule (internal/idem: %s doubling to %s, each delay drawn between half and all "+
		"of it) makes at most %d strongly consistent reads per waiter in the first second and %.1f per second after, "+
		"so %d waiters read the one item at most %d times in the first second and %.0f times a second after (1 RCU "+
		"each, items under 4 KB), against the partition's %d RCU/s: %s. Their %d claims are failed transactional "+
		"writes on the same item, up to %.0f WCU at once (counted as attempted, %.0f WCU each: %s) against %d WCU/s: a "+
		"burst that size is throttled and retried by the SDK whatever the polling does.", s.byOp["GetItem"],
		s.duplicates, shortDur(idem.PollFirst), shortDur(idem.PollMax), first, steady, s.duplicates,
		first*s.duplicates, steady*float64(s.duplicates), partitionRCU, verdict, s.duplicates,
		claimWCU*float64(s.duplicates), claimWCU, claimFrom, partitionWCU)
	p("")
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
	at, d := time.Duration(0), initial
	for {
		at += d
		if at > time.Second {
			break
		}
		first++
		d = min(2*d, ceiling)
	}
	return first, float64(time.Second) / float64(ceiling)
}

func statusList(m map[int]int) string {
	var out []string
	for _, code := range []int{200, 201, 409, 422, 500, 502, 503} {
		if n := m[code]; n > 0 {
			out = append(out, fmt.Sprintf("%d × %d", code, n))
		}
	}
	return strings.Join(out, ", ")
}

func opList(m map[string]int) string {
	var out []string
	for _, op := range []string{"TransactWriteItems", "PutItem", "UpdateItem", "GetItem", "DeleteItem"} {
		if n := m[op]; n > 0 {
			out = append(out, fmt.Sprintf("%s %d", op, n))
		}
	}
	return strings.Join(out, ", ")
}
