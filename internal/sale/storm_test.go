// Package sale holds the flash-sale storm: one hot product, a few units in several stock
// shards, many buyers each clicking three times at once, on DynamoDB Local, through the real
// checkout handler. The test runs a small sale in `make test`; BenchmarkFlashSale runs a large
// one in `make bench` (bench/sale.txt). Its only files are tests.
package sale

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/stock"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// hot is the product on sale, at unitPrice cents.
const (
	hot       = "drop-sneaker"
	unitPrice = 12000
)

// sale is the size of a storm.
type sale struct {
	units, shards int
	buyers        int
	clicks        int // concurrent sends of one buyer's request
	inFlight      int // buyers at once
}

// small is the storm of `make test`.
var small = sale{units: 100, shards: 4, buyers: 600, clicks: 3, inFlight: 48}

func TestMain(m *testing.M) { testenv.Main(m) }

// answer is what one send received, and how long it took.
type answer struct {
	status  int
	typ     string // the problem type, or "" for an order
	body    string
	latency time.Duration
	done    time.Duration // since the storm began
}

// saleRun is one sale, set up: the product loaded, the handler on DynamoDB Local.
type saleRun struct {
	sale
	c           *dynamodb.Client
	calls       ddb.Counter // DynamoDB HTTP requests, retries included
	cost        meter       // calls, their capacity units, throttled attempts
	catalog     string
	ordersTable string
	local       *payment.Local
	h           http.Handler
}

// newSale loads s.units of the hot product into s.shards and builds the checkout handler.
func newSale(tb testing.TB, s sale) *saleRun {
	tb.Helper()
	ctx := context.Background()
	r := &saleRun{sale: s}
	r.c = testenv.DynamoClient(tb, r.calls.Option(), r.cost.Option())
	r.catalog = testenv.Table(tb, r.c, catalog.Table("catalog"))
	products := catalog.NewDynamoStore(r.c, r.catalog)
	if _, err := catalog.Load(ctx, products, []catalog.Product{{SKU: hot, Name: "Drop sneaker",
		Prices: map[string]int64{"usd": unitPrice}, Active: true, Stock: s.units, Shards: s.shards}}); err != nil {
		tb.Fatal(err)
	}
	r.ordersTable = testenv.Table(tb, r.c, orders.Table("orders"))
	r.local = payment.NewLocal()
	r.h = checkout.New(checkout.Options{
		Catalog: catalog.NewCache(products, time.Minute, time.Now),
		Orders:  orders.NewDynamoStore(r.c, r.ordersTable).WithStock(r.catalog),
		Idem:    idem.NewDynamoStore(r.c, testenv.Table(tb, r.c, idem.Table("idem"))),
		// Duplicates wait for the first send's answer, however busy the machine.
		Payments: r.local, Wait: time.Minute, Logger: slog.New(slog.DiscardHandler),
	})
	return r
}

// saleResult is what a storm did.
type saleResult struct {
	sale
	answers  [][]answer // per buyer, per click
	elapsed  time.Duration
	requests map[string]int64  // DynamoDB HTTP requests by operation, retries included
	costs    map[string]opCost // by operation
	// throttled are the attempts DynamoDB throttled (as the SDK saw them).
	throttled int64
	// after the storm, read from the tables and the provider
	paid, soldOut, unavailable, other int
	stored, charges, left             int
}

// storm runs the sale: every buyer sends its request clicks times at once (one idempotency
// key), inFlight buyers at a time. It counts DynamoDB's requests and units for the storm alone.
func (r *saleRun) storm() saleResult {
	r.calls.Reset()
	r.cost.Reset()
	answers := make([][]answer, r.buyers)
	sem := make(chan struct{}, r.inFlight)
	var wg sync.WaitGroup
	start := time.Now()
	for b := range r.buyers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			body := fmt.Sprintf(`{"items":[{"sku":%q,"quantity":1}],"currency":"usd","payment_method":"pm_card_visa","customer_email":"b%d@example.com"}`, hot, b)
			got := make([]answer, r.clicks)
			var dup sync.WaitGroup
			for i := range r.clicks {
				dup.Go(func() {
					got[i] = send(r.h, fmt.Sprintf("buyer-%05d", b), body)
					got[i].done = time.Since(start)
				})
			}
			dup.Wait()
			answers[b] = got
		})
	}
	wg.Wait()
	return saleResult{sale: r.sale, answers: answers, elapsed: time.Since(start),
		requests: r.calls.ByOperation(), costs: r.cost.Costs(), throttled: r.cost.throttled.Load()}
}

// verify reads what the storm left (the shards, the orders table, the provider's charges) into
// res, and fails tb on any answer that is neither an order nor out-of-stock, and on duplicates
// answered unlike their first send.
func (r *saleRun) verify(tb testing.TB, res *saleResult) {
	tb.Helper()
	ctx := context.Background()
	ids := map[string]bool{}
	for b, got := range res.answers {
		first := got[0]
		for _, a := range got[1:] {
			if a.status != first.status || a.typ != first.typ || (first.status == http.StatusCreated && a.body != first.body) {
				tb.Errorf("buyer %d: duplicates answered differently: %d %s vs %d %s", b, first.status, first.body, a.status, a.body)
			}
		}
		for _, a := range got {
			if a.status == http.StatusServiceUnavailable {
				res.unavailable++
			}
		}
		switch {
		case first.status == http.StatusCreated:
			var o checkout.Response
			if err := json.Unmarshal([]byte(first.body), &o); err != nil || o.Status != orders.Paid || o.Amount != unitPrice {
				tb.Errorf("buyer %d: %s", b, first.body)
			}
			ids[o.OrderID] = true
			res.paid++
		case first.status == http.StatusConflict && first.typ == problem.OutOfStock:
			res.soldOut++
		default:
			res.other++
			tb.Errorf("buyer %d: %d %s", b, first.status, first.body)
		}
	}
	if len(ids) != res.paid {
		tb.Errorf("%d paid answers name %d distinct orders", res.paid, len(ids))
	}
	for n := range r.shards {
		out, err := r.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.catalog), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{stock.KeyAttribute: ddb.S(stock.ShardKey(hot, n))}})
		if err != nil {
			tb.Fatal(err)
		}
		u, _ := stock.UnitsOf(out.Item)
		if u < 0 {
			tb.Errorf("shard %d holds %d units", n, u)
		}
		res.left += u
	}
	var err error
	if res.stored, err = testenv.ScanCount(ctx, r.c, r.ordersTable); err != nil {
		tb.Fatal(err)
	}
	res.charges = r.local.Created()
}

// check fails tb unless the sale sold every unit exactly once: units paid orders, stored and
// charged, every other buyer out of stock, no unit left.
func (res saleResult) check(tb testing.TB) {
	tb.Helper()
	if res.paid != res.units || res.stored != res.units || res.charges != res.units || res.soldOut != res.buyers-res.units || res.left != 0 {
		tb.Fatalf("%d paid, %d stored, %d charges, %d out of stock, %d units left; want %d paid orders, %d stored, %d charges, %d out of stock, 0 units left",
			res.paid, res.stored, res.charges, res.soldOut, res.left, res.units, res.units, res.units, res.buyers-res.units)
	}
}

// total is the sum of the DynamoDB requests by operation.
func (res saleResult) total() int64 {
	var n int64
	for _, v := range res.requests {
		n += v
	}
	return n
}

func TestFlashSaleNeverOversells(t *testing.T) {
	r := newSale(t, small)
	res := r.storm()
	r.verify(t, &res)
	t.Logf("flash sale: %d buyers x %d clicks, %d units in %d shards: %d paid (%d orders stored, %d charges), %d out of stock, %d units left; "+
		"%d DynamoDB requests (%.2f per buyer; by operation %v), %v", res.buyers, res.clicks, res.units, res.shards, res.paid, res.stored,
		res.charges, res.soldOut, res.left, res.total(), float64(res.total())/float64(res.buyers), res.requests, res.elapsed.Round(time.Millisecond))
	res.check(t)
}

func send(h http.Handler, key, body string) answer {
	start := time.Now()
	r := httptest.NewRequest(http.MethodPost, "/checkout", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Idempotency-Key", key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	a := answer{status: w.Code, body: string(b), latency: time.Since(start)}
	if strings.HasPrefix(w.Header().Get("Content-Type"), problem.ContentType) {
		var p problem.Problem
		_ = json.Unmarshal(b, &p)
		a.typ = p.Type
	}
	return a
}
