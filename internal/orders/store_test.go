package orders_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// harness is one implementation under test, with a way to commit a Write on its own (as the
// idempotency store would, without the record).
type harness struct {
	store orders.Store
	// apply commits w alone; a failed condition is reported as an error matching ErrExists.
	apply func(w idem.Write) error
}

func memoryHarness(*testing.T) harness {
	s := orders.NewMemoryStore()
	return harness{store: s, apply: func(w idem.Write) error { return w.Memory() }}
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
	return harness{store: orders.NewDynamoStore(api, table), apply: func(w idem.Write) error {
		return transactAlone(context.Background(), c, w)
	}}
}

// transactAlone runs w's Dynamo half as a one-item TransactWriteItems.
func transactAlone(ctx context.Context, c *dynamodb.Client, w idem.Write) error {
	_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{w.Dynamo}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) == 1 &&
		aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return fmt.Errorf("%w: %w", orders.ErrExists, err)
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

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

func sample(id string) orders.Order {
	return orders.Order{ID: id, CartID: "cart_" + id, Amount: 4200, Currency: "eur", Status: orders.Pending,
		PaymentIntentID: "pi_" + id, CustomerEmail: "buyer@example.com", PaymentMethod: "pm_card_visa", CreatedAt: t0, UpdatedAt: t0}
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

var contract = []struct {
	name string
	run  func(*testing.T, harness)
}{
	{"an inserted order reads back equal", func(t *testing.T, h harness) {
		ctx := context.Background()
		o := sample("a")
		o.CreatedAt = time.Date(2026, 3, 1, 13, 0, 0, 5, time.FixedZone("CET", 3600)) // stored in UTC
		if err := h.apply(h.store.Insert(o)); err != nil {
			t.Fatal(err)
		}
		got, err := h.store.Get(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		want := o
		want.CreatedAt = o.CreatedAt.UTC()
		if got != want {
			t.Fatalf("Get = %+v\nwant %+v", got, want)
		}
	}},
	{"optional fields may be empty and the status defaults to pending", func(t *testing.T, h harness) {
		o := orders.Order{ID: "bare", CartID: "c", Amount: 0, Currency: "usd", CreatedAt: t0, UpdatedAt: t0}
		if err := h.apply(h.store.Insert(o)); err != nil {
			t.Fatal(err)
		}
		got, err := h.store.Get(context.Background(), "bare")
		o.Status = orders.Pending
		if err != nil || got != o {
			t.Fatalf("Get = %+v, %v\nwant %+v", got, err, o)
		}
	}},
	{"a second insert of the same id fails and keeps the first", func(t *testing.T, h harness) {
		if err := h.apply(h.store.Insert(sample("dup"))); err != nil {
			t.Fatal(err)
		}
		other := sample("dup")
		other.Amount, other.CartID = 1, "other"
		if err := h.apply(h.store.Insert(other)); !errors.Is(err, orders.ErrExists) {
			t.Fatalf("second Insert = %v, want ErrExists", err)
		}
		got, _ := h.store.Get(context.Background(), "dup")
		if got != sample("dup") {
			t.Fatalf("stored %+v, want the first order", got)
		}
		assertCount(t, h, 1)
	}},
	{"an invalid order cannot be inserted", func(t *testing.T, h harness) {
		bad := sample("bad")
		bad.Status = "shipped"
		if err := h.apply(h.store.Insert(bad)); err == nil {
			t.Fatal("Insert with an invalid status succeeded")
		}
		if err := h.apply(h.store.Insert(orders.Order{})); err == nil {
			t.Fatal("Insert without an id succeeded")
		}
		assertCount(t, h, 0)
	}},
	{"create inserts once then reports ErrExists", func(t *testing.T, h harness) {
		ctx := context.Background()
		if err := h.store.Create(ctx, sample("c")); err != nil {
			t.Fatal(err)
		}
		if err := h.store.Create(ctx, sample("c")); !errors.Is(err, orders.ErrExists) {
			t.Fatalf("second Create = %v, want ErrExists", err)
		}
		if err := h.apply(h.store.Insert(sample("c"))); !errors.Is(err, orders.ErrExists) {
			t.Fatalf("Insert after Create = %v, want ErrExists", err)
		}
	}},
	{"an unknown id is not found", func(t *testing.T, h harness) {
		if _, err := h.store.Get(context.Background(), "nope"); !errors.Is(err, orders.ErrNotFound) {
			t.Fatalf("Get = %v, want ErrNotFound", err)
		}
	}},
	{"absent holds for a new id and fails for an existing one", func(t *testing.T, h harness) {
		if err := h.apply(h.store.Absent("x")); err != nil {
			t.Fatalf("Absent on a new id = %v", err)
		}
		if err := h.store.Create(context.Background(), sample("x")); err != nil {
			t.Fatal(err)
		}
		if err := h.apply(h.store.Absent("x")); !errors.Is(err, orders.ErrExists) {
			t.Fatalf("Absent on an existing id = %v, want ErrExists", err)
		}
		assertCount(t, h, 1)
	}},
	{"advance moves forward and records the time", func(t *testing.T, h harness) {
		ctx := context.Background()
		o := sample("f")
		o.PaymentIntentID = ""
		mustCreate(t, h, o)
		steps := []orders.Status{orders.RequiresAction, orders.Failed, orders.Paid, orders.Refunded}
		for i, to := range steps {
			now := t0.Add(time.Duration(i+1) * time.Minute)
			changed, err := h.store.Advance(ctx, "f", to, "pi_f", now)
			if err != nil || !changed {
				t.Fatalf("Advance to %s = %v, %v, want changed", to, changed, err)
			}
			got, _ := h.store.Get(ctx, "f")
			if got.Status != to || !got.UpdatedAt.Equal(now) || !got.CreatedAt.Equal(t0) || got.PaymentIntentID != "pi_f" {
				t.Fatalf("after Advance to %s: %+v", to, got)
			}
		}
	}},
	{"advance keeps the first payment intent id", func(t *testing.T, h harness) {
		ctx := context.Background()
		mustCreate(t, h, sample("p"))
		if changed, err := h.store.Advance(ctx, "p", orders.Paid, "pi_other", t0); err != nil || !changed {
			t.Fatalf("Advance = %v, %v", changed, err)
		}
		if got, _ := h.store.Get(ctx, "p"); got.PaymentIntentID != "pi_p" || got.Status != orders.Paid {
			t.Fatalf("stored %+v, want pi_p and paid", got)
		}
	}},
	{"advance never moves backwards or sideways", func(t *testing.T, h harness) {
		ctx := context.Background()
		o := sample("b")
		o.Status = orders.Paid
		mustCreate(t, h, o)
		for _, to := range []orders.Status{orders.Pending, orders.RequiresAction, orders.Failed, orders.Paid} {
			changed, err := h.store.Advance(ctx, "b", to, "pi_new", t0.Add(time.Hour))
			if err != nil || changed {
				t.Fatalf("Advance paid -> %s = %v, %v, want unchanged", to, changed, err)
			}
		}
		if got, _ := h.store.Get(ctx, "b"); got != o {
			t.Fatalf("stored %+v, want untouched %+v", got, o)
		}
	}},
	{"failed may still become paid", func(t *testing.T, h harness) {
		ctx := context.Background()
		mustCreate(t, h, sample("r"))
		for _, to := range []orders.Status{orders.Failed, orders.Paid} {
			if changed, err := h.store.Advance(ctx, "r", to, "", t0); err != nil || !changed {
				t.Fatalf("Advance to %s = %v, %v", to, changed, err)
			}
		}
	}},
	{"advance of an unknown id is not found and creates nothing", func(t *testing.T, h harness) {
		changed, err := h.store.Advance(context.Background(), "ghost", orders.Paid, "pi", t0)
		if !errors.Is(err, orders.ErrNotFound) || changed {
			t.Fatalf("Advance = %v, %v, want ErrNotFound", changed, err)
		}
		assertCount(t, h, 0)
	}},
	{"advance to an invalid status is refused", func(t *testing.T, h harness) {
		mustCreate(t, h, sample("i"))
		if _, err := h.store.Advance(context.Background(), "i", "shipped", "", t0); !errors.Is(err, orders.ErrInvalidStatus) {
			t.Fatalf("Advance = %v, want ErrInvalidStatus", err)
		}
	}},
	{"racing advances end at the highest status", func(t *testing.T, h harness) {
		ctx := context.Background()
		mustCreate(t, h, sample("race"))
		targets := []orders.Status{orders.RequiresAction, orders.Failed, orders.Paid, orders.Refunded}
		var wg sync.WaitGroup
		var mu sync.Mutex
		changes := 0
		for i := range 16 {
			wg.Go(func() {
				changed, err := h.store.Advance(ctx, "race", targets[i%len(targets)], "", t0.Add(time.Duration(i)*time.Second))
				if err != nil {
					t.Error(err)
				}
				if changed {
					mu.Lock()
					changes++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		got, err := h.store.Get(ctx, "race")
		if err != nil || got.Status != orders.Refunded {
			t.Fatalf("final = %+v, %v, want refunded", got, err)
		}
		// Every change raises the rank, so at most one per status above pending.
		if changes < 1 || changes > len(targets) {
			t.Fatalf("%d advances reported a change, want 1 to %d", changes, len(targets))
		}
	}},
	{"count counts every order", func(t *testing.T, h harness) {
		for i := range 30 {
			mustCreate(t, h, sample(fmt.Sprint("n", i)))
		}
		assertCount(t, h, 30)
	}},
}

func mustCreate(t *testing.T, h harness, o orders.Order) {
	t.Helper()
	if err := h.store.Create(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

func assertCount(t *testing.T, h harness, want int) {
	t.Helper()
	n, err := h.store.Count(context.Background())
	if err != nil || n != want {
		t.Fatalf("Count = %d, %v, want %d", n, err, want)
	}
}
