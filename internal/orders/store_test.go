package orders_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/stock"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// errCancelled is what harness.commit returns when a write's condition failed.
var errCancelled = errors.New("write cancelled")

// harness is one implementation under test, with a way to commit a Begin or Settle write on
// its own (as the idempotency store would, without the record).
type harness struct {
	store  orders.Store
	commit func(w []any) error // a failed condition matches errCancelled
	// load sets the units of sku's shards 0, 1, ...; units reads one shard's.
	load  func(t *testing.T, sku string, units ...int)
	units func(t *testing.T, sku string, shard int) int
}

func memoryHarness(*testing.T) harness {
	m := stock.NewMemory()
	return harness{
		store: orders.NewMemoryStore().WithStock(m),
		commit: func(ws []any) error {
			for _, w := range ws {
				if err := w.(func() error)(); err != nil {
					return fmt.Errorf("%w: %w", errCancelled, err)
				}
			}
			return nil
		},
		load: func(t *testing.T, sku string, units ...int) {
			set := map[string]int{}
			for n, u := range units {
				set[stock.ShardKey(sku, n)] = u
			}
			m.Swap(nil, set)
		},
		units: func(_ *testing.T, sku string, shard int) int { return m.Units(stock.ShardKey(sku, shard)) },
	}
}

func dynamoHarness(t *testing.T) harness { return dynamoHarnessVia(t, nil) }

// dynamoHarnessVia gives the store the client wrap(c) instead of c when wrap is not nil.
func dynamoHarnessVia(t *testing.T, wrap func(*dynamodb.Client) orders.DynamoDBAPI) harness {
	c := testenv.DynamoClient(t)
	table := testenv.Table(t, c, orders.Table("orders"))
	var api orders.DynamoDBAPI = c
	if wrap != nil {
		api = wrap(c)
	}
	units := testenv.Table(t, c, ddb.Table{Name: "catalog", PartitionKey: stock.KeyAttribute})
	return harness{
		store: orders.NewDynamoStore(api, table).WithStock(units),
		commit: func(ws []any) error {
			items := make([]types.TransactWriteItem, 0, len(ws))
			for _, w := range ws {
				items = append(items, w.(types.TransactWriteItem))
			}
			return transact(context.Background(), c, items)
		},
		load: func(t *testing.T, sku string, shards ...int) {
			for n, u := range shards {
				_, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(units), Item: map[string]types.AttributeValue{
					stock.KeyAttribute: ddb.S(stock.ShardKey(sku, n)), stock.UnitsAttribute: ddb.N(int64(u)), stock.SKUAttribute: ddb.S(sku),
				}})
				if err != nil {
					t.Fatal(err)
				}
			}
		},
		units: func(t *testing.T, sku string, shard int) int {
			out, err := c.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(units), ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{stock.KeyAttribute: ddb.S(stock.ShardKey(sku, shard))}})
			if err != nil {
				t.Fatal(err)
			}
			u, _ := stock.UnitsOf(out.Item)
			return u
		},
	}
}

// transact runs items as one TransactWriteItems; a failed condition matches errCancelled.
func transact(ctx context.Context, c *dynamodb.Client, items []types.TransactWriteItem) error {
	_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return fmt.Errorf("%w: %w", errCancelled, err)
			}
		}
	}
	return err
}

var harnesses = []struct {
	name string
	new  func(*testing.T) harness
}{
	{"memory", memoryHarness},
	{"dynamodb", dynamoHarness},
	{"dynamodb without ALL_OLD", func(t *testing.T) harness {
		return dynamoHarnessVia(t, func(c *dynamodb.Client) orders.DynamoDBAPI { return noOldItem{c} })
	}},
}

// noOldItem drops the item a failed condition returns, as older emulators do.
type noOldItem struct{ *dynamodb.Client }

func (c noOldItem) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := c.Client.UpdateItem(ctx, in, opts...)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		ccf.Item = nil
	}
	return out, err
}

// t0 is near the real time: DynamoDB Local deletes nothing here (no TTL), but keep it recent.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// sample is an order as the checkout reserves it: 2 tees at 21.00.
func sample(id string) orders.Order {
	return orders.Order{ID: id, Amount: 4200, Currency: "eur", Status: orders.Created,
		CustomerEmail: "buyer@example.com", Owner: "user-1", PaymentMethod: "pm_card_visa",
		ProviderKey: "checkout-" + id, CreatedAt: t0, UpdatedAt: t0,
		Lines: []orders.Line{{SKU: "tee", Name: "Tee", UnitPrice: 2100, Quantity: 2}}}
}

// plain is sample without lines: an order made before the catalog (Create only).
func plain(id string) orders.Order {
	o := sample(id)
	o.Lines, o.CartID = nil, "cart_"+id
	return o
}

func TestStoreContract(t *testing.T) {
	for _, h := range harnesses {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range contract {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, h.new(t))
				})
			}
		})
	}
}

// the contract, in groups: contract_reserve_test.go, contract_apply_test.go,
// contract_units_test.go.
var contract = slices.Concat(basics, reserveSettle, applyCases, rekeyCases, unitsCases)

var basics = []struct {
	name string
	run  func(*testing.T, harness)
}{
	{"a created order reads back equal, in UTC", func(t *testing.T, h harness) {
		o := sample("a")
		o.PaymentIntentID, o.AmountRefunded, o.Status = "pi_a", 100, orders.Paid
		o.CreatedAt = time.Date(2026, 3, 1, 13, 0, 0, 5, time.FixedZone("CET", 3600))
		mustCreate(t, h, o)
		want := o
		want.CreatedAt = o.CreatedAt.UTC()
		assertOrder(t, h, want)
	}},
	{"optional fields may be empty and the status defaults to created", func(t *testing.T, h harness) {
		o := orders.Order{ID: "bare", CartID: "c", Amount: 1, Currency: "usd", CreatedAt: t0, UpdatedAt: t0}
		mustCreate(t, h, o)
		o.Status = orders.Created
		assertOrder(t, h, o)
	}},
	{"create inserts once then reports ErrExists", func(t *testing.T, h harness) {
		mustCreate(t, h, sample("c"))
		if err := h.store.Create(context.Background(), sample("c")); !errors.Is(err, orders.ErrExists) {
			t.Fatalf("second Create = %v, want ErrExists", err)
		}
	}},
	{"an unknown id is not found", func(t *testing.T, h harness) {
		if _, err := h.store.Get(context.Background(), "nope"); !errors.Is(err, orders.ErrNotFound) {
			t.Fatalf("Get = %v, want ErrNotFound", err)
		}
	}},
}

func mustCreate(t *testing.T, h harness, o orders.Order) {
	t.Helper()
	if err := h.store.Create(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

func mustCommit(t *testing.T, h harness, w []any, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.commit(w); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, h harness, id string) orders.Order {
	t.Helper()
	o, err := h.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func assertOrder(t *testing.T, h harness, want orders.Order) {
	t.Helper()
	if got := get(t, h, want.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("stored\n %+v\nwant\n %+v", got, want)
	}
}
