// Package sale holds the flash-sale storm: one hot product, a few units in several stock
// shards, many buyers each clicking three times at once, on DynamoDB Local, through the real
// checkout handler. Its only files are tests.
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

const (
	units     = 100
	shards    = 4
	buyers    = 600
	clicks    = 3  // concurrent sends of one buyer's request
	inFlight  = 48 // buyers at once
	hot       = "drop-sneaker"
	unitPrice = 12000
)

// answer is what one send received.
type answer struct {
	status int
	typ    string // the problem type, or "" for an order
	body   string
}

func TestFlashSaleNeverOversells(t *testing.T) {
	ctx := context.Background()
	var calls ddb.Counter
	c := testenv.DynamoClient(t, calls.Option())
	cat := testenv.Table(t, c, catalog.Table("catalog"))
	products := catalog.NewDynamoStore(c, cat)
	if _, err := catalog.Load(ctx, products, []catalog.Product{{SKU: hot, Name: "Drop sneaker",
		Prices: map[string]int64{"usd": unitPrice}, Active: true, Stock: units, Shards: shards}}); err != nil {
		t.Fatal(err)
	}
	ordersTable := testenv.Table(t, c, orders.Table("orders"))
	local := payment.NewLocal()
	h := checkout.New(checkout.Options{
		Catalog: catalog.NewCache(products, time.Minute, time.Now),
		Orders:  orders.NewDynamoStore(c, ordersTable).WithStock(cat),
		Idem:    idem.NewDynamoStore(c, testenv.Table(t, c, idem.Table("idem"))),
		// Duplicates wait for the first send's answer, however busy the machine.
		Payments: local, Wait: time.Minute, Logger: slog.New(slog.DiscardHandler),
	})
	calls.Reset()

	answers := make([][]answer, buyers)
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	start := time.Now()
	for b := range buyers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			body := fmt.Sprintf(`{"items":[{"sku":%q,"quantity":1}],"currency":"usd","payment_method":"pm_card_visa","customer_email":"b%d@example.com"}`, hot, b)
			got := make([]answer, clicks)
			var dup sync.WaitGroup
			for i := range clicks {
				dup.Go(func() { got[i] = send(h, fmt.Sprintf("buyer-%04d", b), body) })
			}
			dup.Wait()
			answers[b] = got
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	paid, soldOut := 0, 0
	ids := map[string]bool{}
	for b, got := range answers {
		first := got[0]
		for _, a := range got[1:] {
			if a.status != first.status || a.typ != first.typ || (first.status == http.StatusCreated && a.body != first.body) {
				t.Errorf("buyer %d: duplicates answered differently: %+v vs %+v", b, first, a)
			}
		}
		switch {
		case first.status == http.StatusCreated:
			var res checkout.Response
			if err := json.Unmarshal([]byte(first.body), &res); err != nil || res.Status != orders.Paid || res.Amount != unitPrice {
				t.Errorf("buyer %d: %s", b, first.body)
			}
			ids[res.OrderID] = true
			paid++
		case first.status == http.StatusConflict && first.typ == problem.OutOfStock:
			soldOut++
		default:
			t.Errorf("buyer %d: %d %s", b, first.status, first.body)
		}
	}
	left := 0
	for n := range shards {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(cat), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{stock.KeyAttribute: ddb.S(stock.ShardKey(hot, n))}})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := stock.UnitsOf(out.Item)
		if u < 0 {
			t.Errorf("shard %d holds %d units", n, u)
		}
		left += u
	}
	stored, err := testenv.ScanCount(ctx, c, ordersTable)
	if err != nil {
		t.Fatal(err)
	}
	requests := calls.Load()
	t.Logf("flash sale: %d buyers x %d clicks, %d units in %d shards: %d paid (%d orders stored, %d charges), %d out of stock, %d units left; "+
		"%d DynamoDB requests (%.2f per buyer; by operation %v), %v", buyers, clicks, units, shards, paid, stored, local.Created(), soldOut, left,
		requests, float64(requests)/buyers, calls.ByOperation(), elapsed.Round(time.Millisecond))
	if paid != units || len(ids) != units || stored != units || local.Created() != units || soldOut != buyers-units || left != 0 {
		t.Fatalf("want %d paid orders, %d stored, %d charges, %d out of stock, 0 units left", units, units, units, buyers-units)
	}
}

func send(h http.Handler, key, body string) answer {
	r := httptest.NewRequest(http.MethodPost, "/checkout", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Idempotency-Key", key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	a := answer{status: w.Code, body: string(b)}
	if strings.HasPrefix(w.Header().Get("Content-Type"), problem.ContentType) {
		var p problem.Problem
		_ = json.Unmarshal(b, &p)
		a.typ = p.Type
	}
	return a
}
