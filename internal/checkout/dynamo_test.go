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

// onDynamo puts the env on fresh tables of the shared DynamoDB Local (idempotency records,
// orders, and the catalog loaded with the sample, whose shard items the orders take units
// from), through a client whose requests counter counts (reset once the catalog is loaded).
func onDynamo(t testing.TB, counter *ddb.Counter) option {
	c := testenv.DynamoClient(t, counter.Option())
	keys := testenv.NewKeys(idem.NewDynamoStore(c, testenv.Table(t, c, idem.Table("checkout-idem"))))
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
	fiveLines := cartBody(`[{"sku":"tee-black-m","quantity":1},{"sku":"tee-white-l","quantity":1},{"sku":"mug-enamel","quantity":1},` +
		`{"sku":"sticker-pack","quantity":2},{"sku":"hoodie-drop-01","quantity":3}]`)

	// A cold cache reads the prices once (one BatchGetItem) on top of the checkout's own requests.
	counter.Reset()
	if w := e.post("cold", validBody); w.Code != http.StatusCreated {
		t.Fatalf("cold: %d %s", w.Code, w.Body)
	}
	cold := counter.Load()
	t.Logf("DynamoDB requests: a first checkout of a 1-line cart with a cold catalog cache: %d", cold)
	if cold != 4 {
		t.Fatalf("a first checkout with a cold catalog cache sent %d DynamoDB requests, want 4 (catalog read, claim, reserve, completion)", cold)
	}
	// Prices cached (within the cache's 5 s), as in a burst of checkouts:
	if _, err := e.prices.Products(t.Context(), []string{"tee-black-m", "tee-white-l", "mug-enamel", "sticker-pack", "hoodie-drop-01"}); err != nil {
		t.Fatal(err)
	}

	counter.Reset()
	first := e.post("k1", validBody)
	if first.Code != http.StatusCreated {
		t.Fatalf("got %d %s", first.Code, first.Body)
	}
	n1 := counter.Load()
	t.Logf("DynamoDB requests: a first checkout of a 1-line cart: %d", n1)
	if n1 != 3 {
		t.Fatalf("a fresh checkout of 1 line sent %d DynamoDB requests, want 3 (claim PutItem, reserve transaction, completion transaction)", n1)
	}

	counter.Reset()
	again := e.post("k1", validBody)
	if again.Header().Get(idem.ReplayedHeader) != "true" || again.Body.String() != first.Body.String() {
		t.Fatalf("replay: %d %s", again.Code, again.Body)
	}
	replay := counter.Load()
	t.Logf("DynamoDB requests: a replay: %d", replay)
	if replay != 1 {
		t.Fatalf("a replay sent %d DynamoDB requests, want 1", replay)
	}

	counter.Reset()
	five := e.post("k5", fiveLines)
	if five.Code != http.StatusCreated || len(decode(t, five).Lines) != 5 || decode(t, five).Amount != 2500+2500+1400+2*500+3*8900 {
		t.Fatalf("5 lines: %d %s", five.Code, five.Body)
	}
	n5 := counter.Load()
	t.Logf("DynamoDB requests: a first checkout of a 5-line cart: %d", n5)
	if n5 != 3 {
		t.Fatalf("a fresh checkout of 5 lines sent %d DynamoDB requests, want 3 (claim PutItem, reserve transaction, completion transaction)", n5)
	}
	for sku, want := range map[string]int{"tee-black-m": 97, "tee-white-l": 2, "mug-enamel": 1, "sticker-pack": 38, "hoodie-drop-01": 97} {
		if got := e.available(t, sku); got != want {
			t.Errorf("%s: %d units left, want %d", sku, got, want)
		}
	}

	t.Run("a key reused after its record expired answers the original order", func(t *testing.T) {
		e.clock.Add(2 * time.Hour)
		w := e.post("k1", validBody)
		if w.Code != http.StatusOK || !reflect.DeepEqual(decode(t, w), decode(t, first)) {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
		if e.local.Calls() != 3 || e.countOrders(t) != 3 || e.available(t, "tee-black-m") != 97 {
			t.Fatalf("calls %d, orders %d, tee-black-m %d", e.local.Calls(), e.countOrders(t), e.available(t, "tee-black-m"))
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
			sold := 0
			for k := range keys {
				sold += 1 + k%3
			}
			if n := e.available(t, "hoodie-drop-01"); n != 100-sold {
				t.Fatalf("%d hoodie-drop-01 left, want %d: each key's units taken once", n, 100-sold)
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
