package checkout_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// onDynamo puts the env on fresh tables of the shared DynamoDB Local, through a client whose
// requests counter counts.
func onDynamo(t testing.TB, counter *ddb.Counter) option {
	c := testenv.DynamoClient(t, counter.Option())
	keys := idem.NewDynamoStore(c, testenv.Table(t, c, idem.Table("checkout-idem")))
	catalogTable := testenv.Table(t, c, catalog.Table("checkout-catalog"))
	store := testenv.NewOrders(orders.NewDynamoStore(c, testenv.Table(t, c, orders.Table("checkout-orders"))).WithStock(catalogTable))
	products := catalog.NewDynamoStore(c, catalogTable)
	loadSample(t, products)
	counter.Reset()
	return func(o *checkout.Options) { o.Idem, o.Orders, o.Catalog = keys, store, products }
}

func TestDynamoDBRequestsPerCheckout(t *testing.T) {
	t.Parallel()
	var counter ddb.Counter
	e := newEnv(t, onDynamo(t, &counter))
	counter.Reset()
	first := e.post("k1", validBody)
	if first.Code != http.StatusCreated {
		t.Fatalf("got %d %s", first.Code, first.Body)
	}
	if n := counter.Load(); n != 2 {
		t.Fatalf("a fresh checkout sent %d DynamoDB requests, want 2 (claim with its guard, completion with the order)", n)
	}
	counter.Reset()
	again := e.post("k1", validBody)
	if again.Header().Get(idem.ReplayedHeader) != "true" || again.Body.String() != first.Body.String() {
		t.Fatalf("replay: %d %s", again.Code, again.Body)
	}
	if n := counter.Load(); n != 1 {
		t.Fatalf("a replay sent %d DynamoDB requests, want 1", n)
	}

	t.Run("a key reused after its record expired answers the original order", func(t *testing.T) {
		e.clock.Add(2 * time.Hour)
		w := e.post("k1", validBody)
		if w.Code != http.StatusOK || !reflect.DeepEqual(decode(t, w), decode(t, first)) {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
		if e.local.Calls() != 1 || e.countOrders(t) != 1 {
			t.Fatalf("calls %d, orders %d", e.local.Calls(), e.countOrders(t))
		}
	})
}

func TestDuplicateStorm(t *testing.T) {
	const keys, dupes = 20, 25
	for _, store := range []string{"memory", "dynamodb"} {
		t.Run(fmt.Sprintf("%d keys x %d concurrent requests on %s make %d orders and %d charges", keys, dupes, store, keys, keys), func(t *testing.T) {
			t.Parallel()
			opts := []option{func(o *checkout.Options) { o.Wait = 30 * time.Second; o.Now = nil }}
			if store == "dynamodb" {
				opts = append(opts, onDynamo(t, new(ddb.Counter)))
			}
			e := newEnv(t, opts...)
			start := make(chan struct{})
			var wg sync.WaitGroup
			type answer struct {
				code int
				body string
			}
			answers := make([][]answer, keys)
			for k := range keys {
				answers[k] = make([]answer, dupes)
				for d := range dupes {
					wg.Go(func() {
						<-start
						w := e.post(fmt.Sprintf("storm-%d", k), fmt.Sprintf(`{"items":[{"sku":"hoodie-drop-01","quantity":%d}],"amount":%d,"currency":"usd","payment_method":"pm_card_visa"}`, 1+k%3, 8900*(1+k%3)))
						answers[k][d] = answer{w.Code, w.Body.String()}
					})
				}
			}
			close(start)
			wg.Wait()
			for k := range keys {
				for d := range dupes {
					if a := answers[k][d]; a.code != http.StatusCreated || a.body != answers[k][0].body {
						t.Fatalf("key %d request %d: %d %s; request 0: %s\nlogs: %.3000s", k, d, a.code, a.body, answers[k][0].body, grepLines(e.logs.String(), "store failed"))
					}
				}
			}
			if n := e.countOrders(t); n != keys {
				t.Fatalf("%d orders, want %d", n, keys)
			}
			if n := e.local.Created(); n != keys {
				t.Fatalf("%d payment intents, want %d", n, keys)
			}
		})
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
