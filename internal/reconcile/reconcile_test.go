package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"log/slog"

	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/reconcile"
	"github.com/checkout-idem/checkout/internal/stock"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// now is the time of the runs; orders are written relative to it.
var now = time.Now().UTC().Truncate(time.Millisecond)

// fakeProvider holds answers and records the questions.
type fakeProvider struct {
	mu      sync.Mutex
	intents map[string]payment.Intent // by intent id
	byOrder map[string]string         // order id -> intent id
	failing map[string]bool           // order or intent ids whose lookups fail
	asked   []string
}

func newFake() *fakeProvider {
	return &fakeProvider{intents: map[string]payment.Intent{}, byOrder: map[string]string{}, failing: map[string]bool{}}
}

// hold stores in as the intent of order (found by FindByOrder when byOrder).
func (f *fakeProvider) hold(order string, in payment.Intent, byOrder bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in.OrderID = order
	f.intents[in.ID] = in
	if byOrder {
		f.byOrder[order] = in.ID
	}
}

func (f *fakeProvider) Retrieve(_ context.Context, id string) (payment.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, "retrieve "+id)
	if f.failing[id] {
		return payment.Intent{}, payment.ErrUnavailable
	}
	in, ok := f.intents[id]
	if !ok {
		return payment.Intent{}, &payment.RejectedError{StatusCode: 404, Code: "resource_missing"}
	}
	return in, nil
}

func (f *fakeProvider) FindByOrder(_ context.Context, order string) (*payment.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, "find "+order)
	if f.failing[order] {
		return nil, payment.ErrUnavailable
	}
	id, ok := f.byOrder[order]
	if !ok {
		return nil, nil
	}
	in := f.intents[id]
	return &in, nil
}

func (f *fakeProvider) questions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

var stores = []struct {
	name string
	new  func(t *testing.T) orders.Store
}{
	{"memory", func(*testing.T) orders.Store { return orders.NewMemoryStore() }},
	{"dynamodb", func(t *testing.T) orders.Store {
		c := testenv.DynamoClient(t)
		return orders.NewDynamoStore(c, testenv.Table(t, c, orders.Table("reconcile-orders")))
	}},
}

// order is a stuck order: status st, last updated age ago, created created ago.
func order(id string, st orders.Status, intent string, age, created time.Duration) orders.Order {
	return orders.Order{ID: id, CartID: "cart", Amount: 4200, Currency: "eur", Status: st, PaymentIntentID: intent,
		ProviderKey: "checkout-" + id, CreatedAt: now.Add(-created), UpdatedAt: now.Add(-age)}
}

func intent(id string, o payment.Outcome) payment.Intent {
	return payment.Intent{ID: id, Outcome: o, Amount: 4200, Currency: "eur"}
}

func TestRunSettlesWhatTheProviderSays(t *testing.T) {
	for _, s := range stores {
		t.Run("on "+s.name, func(t *testing.T) {
			t.Parallel()
			store, fake := s.new(t), newFake()
			ctx := context.Background()
			cases := []struct {
				o        orders.Order
				hold     *payment.Intent
				byOrder  bool
				want     orders.Status
				wantPI   string
				examined bool
			}{
				// crashed after the charge: no intent recorded, the provider has one that succeeded
				{order("crash_paid", orders.Created, "", 11*time.Minute, 11*time.Minute), ptr(intent("pi_paid", payment.Succeeded)), true, orders.Paid, "pi_paid", true},
				// crashed before the charge: nothing at the provider
				{order("crash_none", orders.Created, "", 20*time.Minute, 20*time.Minute), nil, false, orders.Abandoned, "", true},
				{order("pend_failed", orders.Pending, "pi_failed", time.Hour, time.Hour), ptr(intent("pi_failed", payment.Failed)), false, orders.Failed, "pi_failed", true},
				{order("pend_3ds", orders.Pending, "pi_3ds", time.Hour, time.Hour), ptr(intent("pi_3ds", payment.RequiresAction)), false, orders.RequiresAction, "pi_3ds", true},
				{order("created_processing", orders.Created, "", time.Hour, time.Hour), ptr(intent("pi_proc", payment.Pending)), true, orders.Pending, "pi_proc", true},
				{order("old_unconfirmed", orders.Pending, "pi_old", 2*time.Hour, 25*time.Hour), ptr(intent("pi_old", payment.Pending)), false, orders.Abandoned, "pi_old", true},
				// a buyer who has not confirmed yet, within AbandonAfter: waiting, not unknown
				{order("unconfirmed", orders.Pending, "pi_unc", time.Hour, 2*time.Hour), ptr(intent("pi_unc", payment.Pending)), false, orders.Pending, "pi_unc", true},
				{order("canceled", orders.Pending, "pi_cx", time.Hour, time.Hour), ptr(intent("pi_cx", payment.Canceled)), false, orders.Abandoned, "pi_cx", true},
				// asked to authenticate: a buyer who walked away past the timeout, one who may
				// still act, and one who paid while the webhook was lost
				{order("3ds_walked", orders.RequiresAction, "pi_walk", 31*time.Minute, time.Hour), ptr(intent("pi_walk", payment.RequiresAction)), false, orders.Abandoned, "pi_walk", true},
				{order("3ds_waiting", orders.RequiresAction, "pi_wait", 15*time.Minute, time.Hour), ptr(intent("pi_wait", payment.RequiresAction)), false, orders.RequiresAction, "pi_wait", true},
				{order("3ds_paid", orders.RequiresAction, "pi_3p", 15*time.Minute, time.Hour), ptr(intent("pi_3p", payment.Succeeded)), false, orders.Paid, "pi_3p", true},
				// the provider's intent for the order is for another amount: not applied
				{order("foreign", orders.Created, "", time.Hour, time.Hour), &payment.Intent{ID: "pi_foreign", Outcome: payment.Succeeded, Amount: 1, Currency: "eur"}, true, orders.Created, "", true},
				{order("flaky", orders.Created, "", time.Hour, time.Hour), nil, false, orders.Created, "", true},
				// not stuck: too young, or settled
				{order("young", orders.Created, "", 9*time.Minute, 9*time.Minute), nil, false, orders.Created, "", false},
				{order("paid", orders.Paid, "pi_p", time.Hour, time.Hour), nil, false, orders.Paid, "pi_p", false},
			}
			fake.failing["flaky"] = true
			for _, c := range cases {
				if err := store.Create(ctx, c.o); err != nil {
					t.Fatal(err)
				}
				if c.hold != nil {
					fake.hold(c.o.ID, *c.hold, c.byOrder)
				}
			}
			logs := &testenv.LogBuffer{}
			rc := reconcile.New(reconcile.Options{Orders: store, Payments: fake,
				Logger: slog.New(slog.NewJSONHandler(logs, nil))})
			var rep reconcile.Report
			testenv.Eventually(t, func() error { // the index is eventually consistent: wait until all 13 are listed
				got, err := store.Stuck(ctx, now.Add(-reconcile.DefaultAfter), 100)
				if err == nil && len(got) != 13 {
					err = errors.New("index not caught up")
				}
				return err
			})
			rep, err := rc.Run(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			// waiting: created_processing (now pending), unconfirmed, 3ds_waiting; unknown: foreign, flaky
			want := reconcile.Report{Examined: 13, Settled: 4, Abandoned: 4, Waiting: 3, Unknown: 2, Cutoff: now.Add(-reconcile.DefaultAfter)}
			if rep != want {
				t.Fatalf("report %+v\nwant   %+v", rep, want)
			}
			for _, c := range cases {
				got, err := store.Get(ctx, c.o.ID)
				if err != nil || got.Status != c.want || got.PaymentIntentID != c.wantPI {
					t.Errorf("%s: %s %q (%v), want %s %q", c.o.ID, got.Status, got.PaymentIntentID, err, c.want, c.wantPI)
				}
			}
			for _, q := range fake.questions() {
				if strings.Contains(q, "young") || strings.Contains(q, " paid") {
					t.Errorf("asked the provider about an order that is not stuck: %s", q)
				}
			}
			if in, _ := fake.Retrieve(ctx, "pi_walk"); in.Outcome != payment.Canceled {
				t.Errorf("the walked-away buyer's intent is %s, want canceled before the order was abandoned", in.Outcome)
			}
			if in, _ := fake.Retrieve(ctx, "pi_wait"); in.Outcome != payment.RequiresAction {
				t.Errorf("the waiting buyer's intent is %s, want it left in requires_action", in.Outcome)
			}
			assertLogs(t, logs.String(), 13, want)

			t.Run("a second run changes nothing", func(t *testing.T) {
				testenv.Eventually(t, func() error {
					got, err := store.Stuck(ctx, now.Add(-reconcile.DefaultAfter), 100)
					if err == nil && len(got) != 4 { // flaky, foreign, unconfirmed and 3ds_waiting stay; processing moved to pending just now
						err = errors.New("index not caught up")
					}
					return err
				})
				rep, err := rc.Run(ctx, now)
				if err != nil || rep.Examined != 4 || rep.Unknown != 2 || rep.Waiting != 2 || rep.Settled+rep.Abandoned != 0 {
					t.Fatalf("second run %+v, %v", rep, err)
				}
			})
		})
	}
}

func TestRunIsBoundedAndLeavesATakenOverOrderAlone(t *testing.T) {
	units := stock.NewMemory()
	units.PutBack([]stock.Draw{{SKU: "tee", Units: 10}})
	store, fake := orders.NewMemoryStore().WithStock(units), newFake()
	ctx := context.Background()
	lined := func(id string, age time.Duration) orders.Order {
		o := order(id, orders.Created, "", age, time.Hour)
		o.CartID, o.Lines = "", []orders.Line{{SKU: "tee", Name: "Tee", UnitPrice: 2100, Quantity: 2}}
		return o
	}
	for _, id := range []string{"a", "b", "c"} {
		if _, err := store.Reserve(ctx, lined(id, time.Hour), map[string]int{"tee": 1}); err != nil {
			t.Fatal(err)
		}
	}
	rc := reconcile.New(reconcile.Options{Orders: store, Payments: fake, Limit: 2, Logger: slog.New(slog.DiscardHandler)})
	if rep, err := rc.Run(ctx, now); err != nil || rep.Examined != 2 {
		t.Fatalf("Run with Limit 2 = %+v, %v", rep, err)
	}
	// A checkout retry takes "c" over between the listing and the change: after the provider
	// failed, its units were released, and the retry takes them again.
	takeover := &racingStore{Store: store, before: func() {
		c, err := store.Get(ctx, "c")
		if err == nil {
			err = store.Release(ctx, c, now.Add(-time.Hour))
		}
		if err == nil {
			_, err = store.Reserve(ctx, lined("c", 0), map[string]int{"tee": 1})
		}
		if err != nil {
			t.Fatal(err)
		}
	}}
	rc = reconcile.New(reconcile.Options{Orders: takeover, Payments: fake, Logger: slog.New(slog.DiscardHandler)})
	rep, err := rc.Run(ctx, now)
	if err != nil || rep.Examined != 1 || rep.Unchanged != 1 || rep.Abandoned != 0 {
		t.Fatalf("run racing a takeover = %+v, %v, want 1 unchanged", rep, err)
	}
	if o, _ := store.Get(ctx, "c"); o.Status != orders.Created {
		t.Fatalf("the taken-over order is %s, want created", o.Status)
	}
}

// racingStore runs before() once, just before the first Apply.
type racingStore struct {
	orders.Store
	once   sync.Once
	before func()
}

func (s *racingStore) Apply(ctx context.Context, id string, c orders.Change) (orders.Applied, error) {
	s.once.Do(s.before)
	return s.Store.Apply(ctx, id, c)
}

func TestRunAgainstStripeMockAndDynamoDB(t *testing.T) {
	stripe, err := payment.NewStripe("sk_test_123", testenv.StripeMock(t), payment.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in, err := stripe.CreatePayment(ctx, payment.Request{OrderID: "ord_mock", Amount: 4200, Currency: "eur", IdempotencyKey: "reconcile-mock-1"})
	if err != nil {
		t.Fatal(err)
	}
	c := testenv.DynamoClient(t)
	store := orders.NewDynamoStore(c, testenv.Table(t, c, orders.Table("reconcile-mock")))
	// An order that recorded its intent and was left pending for two days.
	if err := store.Create(ctx, order("ord_mock", orders.Pending, in.ID, 48*time.Hour, 48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	rc := reconcile.New(reconcile.Options{Orders: store, Payments: stripe, Logger: slog.New(slog.DiscardHandler)})
	testenv.Eventually(t, func() error {
		rep, err := rc.Run(ctx, now)
		if err == nil && rep.Examined != 1 {
			err = errors.New("index not caught up")
		}
		return err
	})
	got, err := store.Get(ctx, "ord_mock")
	// stripe-mock's fixture intent is requires_payment_method with a last_payment_error: failed.
	if err != nil || got.Status != orders.Failed || got.PaymentIntentID != in.ID {
		t.Fatalf("order after the run: %+v, %v", got, err)
	}
}

func assertLogs(t *testing.T, logs string, perOrder int, rep reconcile.Report) {
	t.Helper()
	n := 0
	var summary map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch m["msg"] {
		case "reconcile order":
			n++
			if m["order_id"] == nil || m["outcome"] == nil {
				t.Errorf("order line without order_id or outcome: %s", line)
			}
		case "reconcile run":
			summary = m
		}
	}
	if n != perOrder {
		t.Errorf("%d order lines, want %d", n, perOrder)
	}
	aws, _ := summary["_aws"].(map[string]any)
	if summary["Settled"] != float64(rep.Settled) || summary["Abandoned"] != float64(rep.Abandoned) ||
		summary["Waiting"] != float64(rep.Waiting) || summary["Unknown"] != float64(rep.Unknown) || aws["CloudWatchMetrics"] == nil {
		t.Errorf("summary line %v does not match %+v with EMF metrics", summary, rep)
	}
}

func ptr[T any](v T) *T { return &v }

// Cancel cancels an intent that has not succeeded, as Stripe does.
func (f *fakeProvider) Cancel(_ context.Context, id, _ string) (payment.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, "cancel "+id)
	in, ok := f.intents[id]
	if !ok {
		return payment.Intent{}, &payment.RejectedError{StatusCode: 404, Code: "resource_missing"}
	}
	if in.Outcome != payment.Succeeded {
		in.Outcome = payment.Canceled
		f.intents[id] = in
	}
	return in, nil
}

// Refund refunds nothing here: the reconciler's tests do not sell units twice.
func (f *fakeProvider) Refund(_ context.Context, id string, _ int64, _ string) (string, error) {
	return "re_" + id, nil
}
