package sale

import (
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// large is the sale of `make bench`: ten times the units of the test's, in the 25 shards the
// README's sizing asks for at 10,000 checkouts a second of one product, and six buyers for
// each unit, so most of the run is a sold-out product under load (about two minutes on a
// shared 2-CPU machine).
var large = sale{units: 1000, shards: 25, buyers: 6000, clicks: 3, inFlight: 48}

// storm is a storm on one key: one buyer whose request arrives 1,000 times at once, for the one
// unit there is.
var storm = sale{units: 1, shards: 1, buyers: 1, clicks: 1000, inFlight: 1}

// BenchmarkFlashSale runs the large sale (`go test -run '^$' -bench 'FlashSale|Storm' -benchtime
// 1x ./internal/sale/`, make bench into bench/sale.txt), holds it to the test's invariants and
// prints its figures to stdout: b.Logf would need -v.
func BenchmarkFlashSale(b *testing.B) { benchSale(b, "The flash sale", large) }

// BenchmarkStorm runs the storm on one key the same way: one order, one charge, 999 replays of
// its answer byte for byte (verify), and what the waiting duplicates cost DynamoDB.
func BenchmarkStorm(b *testing.B) { benchSale(b, "A storm on one key", storm) }

func benchSale(b *testing.B, title string, s sale) {
	before := loadavg()
	var res saleResult
	for range b.N {
		b.StopTimer()
		r := newSale(b, s)
		b.StartTimer()
		res = r.storm()
		b.StopTimer()
		r.verify(b, &res)
		res.print(os.Stdout, title, before, loadavg())
		res.check(b)
	}
	per := float64(res.buyers)
	all := latencies(res.answers, func(answer) bool { return true })
	b.ReportMetric(float64(res.paid), "paid")
	b.ReportMetric(float64(res.total())/per, "ddb-req/buyer")
	b.ReportMetric(res.cost().wcu/per, "wcu/buyer")
	b.ReportMetric(ms(pct(all, 50)), "p50-ms")
	b.ReportMetric(ms(pct(all, 99)), "p99-ms")
	b.ReportMetric(float64(res.throttled), "throttled")
}

// cost is the sum of the costs of every operation.
func (res saleResult) cost() opCost {
	var t opCost
	for _, c := range res.costs {
		t.calls, t.failed, t.computed = t.calls+c.calls, t.failed+c.failed, t.computed+c.computed
		t.rcu, t.wcu, t.localCU = t.rcu+c.rcu, t.wcu+c.wcu, t.localCU+c.localCU
	}
	return t
}

// print writes the sale's figures as a table.
func (res saleResult) print(w io.Writer, title, before, after string) {
	per := float64(res.buyers)
	sends := res.buyers * res.clicks
	all := latencies(res.answers, func(answer) bool { return true })
	paid := latencies(res.answers, func(a answer) bool { return a.status == 201 })
	out := latencies(res.answers, func(a answer) bool { return a.status == 409 })
	var byOp, costOp []string
	for _, op := range slices.Sorted(maps.Keys(res.requests)) {
		byOp = append(byOp, fmt.Sprintf("%s %.2f", op, float64(res.requests[op])/per))
	}
	for _, op := range slices.Sorted(maps.Keys(res.costs)) {
		c := res.costs[op]
		if c.wcu > 0 {
			costOp = append(costOp, fmt.Sprintf("%s %.2f", op, c.wcu/per))
		}
	}
	t := res.cost()
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%-38s %s\n", k, fmt.Sprintf(format, a...)) }
	fmt.Fprintf(w, "%s: one product (%s), %d units in %d stock shards; %d buyers x %d concurrent clicks (one idempotency key each), %d buyers in flight;\n",
		title, hot, res.units, res.shards, res.buyers, res.clicks, res.inFlight)
	fmt.Fprintf(w, "the checkout handler in process, DynamoDB Local (in memory) and payment.Local; %s/%s, %d CPUs, %s\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	row("load average (1, 5, 15 min)", "%s before, %s after", before, after)
	var soldOut time.Duration // the last 201's end
	for _, got := range res.answers {
		for _, a := range got {
			if a.status == 201 {
				soldOut = max(soldOut, a.done)
			}
		}
	}
	row("wall time of the storm", "%.1f s (the last unit sold after %.1f s)", res.elapsed.Seconds(), soldOut.Seconds())
	row("buyers", "%d", res.buyers)
	row("sends", "%d (%.0f a second)", sends, float64(sends)/res.elapsed.Seconds())
	row("paid orders (answered 201)", "%d", res.paid)
	row("orders stored", "%d", res.stored)
	row("charges at the provider", "%d", res.charges)
	row("out of stock (409 out-of-stock)", "%d buyers", res.soldOut)
	row("other answers", "%d buyers", res.other)
	row("units loaded / left", "%d / %d", res.units, res.left)
	row("send latency p50 / p99, all sends", "%.2f ms / %.2f ms (%d sends)", ms(pct(all, 50)), ms(pct(all, 99)), len(all))
	row("  sends answered 201", "%.2f ms / %.2f ms (%d sends)", ms(pct(paid, 50)), ms(pct(paid, 99)), len(paid))
	row("  sends answered 409", "%.2f ms / %.2f ms (%d sends)", ms(pct(out, 50)), ms(pct(out, 99)), len(out))
	row("DynamoDB requests per buyer", "%.2f (%d in all, retries included)", float64(res.total())/per, res.total())
	row("  by operation, per buyer", "%s", strings.Join(byOp, ", "))
	row("  retried attempts", "%d (requests beyond the %d SDK calls)", res.total()-t.calls, t.calls)
	row("write units per buyer", "%.2f computed (%.0f WCU in all; %s)", t.wcu/per, t.wcu, strings.Join(costOp, ", "))
	row("read units per buyer", "%.2f (%.0f RCU in all)", t.rcu/per, t.rcu)
	row("  how the units were counted", "%d of %d calls computed by the documented rules (transactions, failed conditional writes), the rest as DynamoDB Local returned them; Local returned %.0f CU in all", t.computed, t.calls, t.localCU)
	row("throttling errors seen by the SDK", "%d (ProvisionedThroughputExceeded, ThrottlingException, RequestLimitExceeded, ThrottlingError; DynamoDB Local never throttles, so 0 here says nothing of DynamoDB)", res.throttled)
	row("503 answered", "%d sends", res.unavailable)
}

// latencies are the sorted latencies of the sends keep accepts.
func latencies(answers [][]answer, keep func(answer) bool) []time.Duration {
	var out []time.Duration
	for _, got := range answers {
		for _, a := range got {
			if keep(a) {
				out = append(out, a.latency)
			}
		}
	}
	slices.Sort(out)
	return out
}

// pct is the p-th percentile of sorted (nearest rank).
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadavg is the machine's load average (1, 5, 15 min), "?" where /proc has none.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
