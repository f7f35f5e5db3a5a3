package faults_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/stock"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// testTimeout bounds every test; DynamoDB Local's JVM takes a few seconds to start.
const testTimeout = 2 * time.Minute

// quiet discards the logs of the handlers under test.
var quiet = slog.New(slog.NewJSONHandler(io.Discard, nil))

// stores are the stores a checkout or webhook handler runs on, and how to count what they hold.
type stores struct {
	name    string
	keys    idem.Store
	orders  *testenv.Orders
	catalog catalog.Store // prices and stock: the sample catalog, sharing its units with orders
	records func(t testing.TB) int
}

// memoryStores returns fresh in-memory stores.
func memoryStores() stores {
	keys := testenv.NewKeys(nil)
	units := stock.NewMemory()
	products := catalog.NewMemoryStore(units)
	if _, err := catalog.Load(context.Background(), products, catalog.Sample()); err != nil {
		panic("load the sample catalog: " + err.Error())
	}
	return stores{name: "memory", keys: keys, orders: testenv.NewOrders(orders.NewMemoryStore().WithStock(units)),
		catalog: products, records: func(testing.TB) int { return keys.Len() }}
}

// storesOn returns fresh stores of the kind named: "memory" or "dynamodb" (DynamoDB Local).
func storesOn(t testing.TB, name string) stores {
	if name == "dynamodb" {
		return dynamoStores(t, testenv.DynamoClient(t))
	}
	return memoryStores()
}

// dynamoStores returns stores on fresh tables reached through c.
func dynamoStores(t testing.TB, c *dynamodb.Client) stores {
	t.Helper()
	table := testenv.Table(t, c, idem.Table("faults-idem"))
	catalogTable := testenv.Table(t, c, catalog.Table("faults-catalog"))
	products := catalog.NewDynamoStore(c, catalogTable)
	if _, err := catalog.Load(t.Context(), products, catalog.Sample()); err != nil {
		t.Fatalf("load the sample catalog: %v", err)
	}
	return stores{name: "dynamodb", keys: idem.NewDynamoStore(c, table),
		orders:  testenv.NewOrders(orders.NewDynamoStore(c, testenv.Table(t, c, orders.Table("faults-orders"))).WithStock(catalogTable)),
		catalog: products, records: func(t testing.TB) int { return scanCount(t, c, table) }}
}

// scanCount counts the items of a table, expired ones included: what is stored, not what is live.
func scanCount(t testing.TB, c *dynamodb.Client, table string) int {
	t.Helper()
	n := 0
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		n += int(out.Count)
	}
	return n
}

// counts are the three numbers every test ends with.
type counts struct{ orders, charges, records int }

func (s stores) counts(t testing.TB, local *payment.Local) counts {
	t.Helper()
	n, err := s.orders.Count(t.Context())
	if err != nil {
		t.Fatalf("count orders: %v", err)
	}
	return counts{orders: n, charges: local.Created(), records: s.records(t)}
}

func assertCounts(t testing.TB, s stores, local *payment.Local, want counts) {
	t.Helper()
	if got := s.counts(t, local); got != want {
		t.Fatalf("on %s: %d orders, %d charges, %d idempotency records; want %d, %d, %d",
			s.name, got.orders, got.charges, got.records, want.orders, want.charges, want.records)
	}
}

// newCheckout returns the checkout handler on s with a Local provider.
func newCheckout(s stores, local *payment.Local, opts ...func(*checkout.Options)) http.Handler {
	o := checkout.Options{Catalog: s.catalog, Orders: s.orders, Payments: local, Idem: s.keys, Logger: quiet}
	for _, f := range opts {
		f(&o)
	}
	return checkout.New(o)
}

// body is a checkout of quantity units of the sample catalog's tee-black-m (usd 2500 each),
// sending the total the buyer was shown: 2500 × quantity.
func body(quantity int) string {
	return `{"items":[{"sku":"tee-black-m","quantity":` + itoa(quantity) + `}],"amount":` + itoa(teePrice*quantity) +
		`,"currency":"usd","payment_method":"pm_card_visa"}`
}

// teePrice is the sample catalog's usd price of tee-black-m, in cents.
const teePrice = 2500

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// post sends POST /checkout with key and body under ctx.
func post(ctx context.Context, h http.Handler, key, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/checkout", strings.NewReader(body))
	r.Header.Set(idem.KeyHeader, key)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// assertProblem checks that w is a problem of type typ with status, and returns it.

func decode(t testing.TB, w *httptest.ResponseRecorder) checkout.Response {
	t.Helper()
	var res checkout.Response
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	return res
}

func replayed(w *httptest.ResponseRecorder) bool {
	return w.Header().Get(idem.ReplayedHeader) == "true"
}
