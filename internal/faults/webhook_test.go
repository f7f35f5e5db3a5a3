package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/testenv"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// applyFunc is the signature of orders.Store's Apply, without its Applied result.
type applyFunc func(ctx context.Context, id string, c orders.Change) error

// failingApply is an order store whose first Apply runs fail() instead of (or around) the
// real one; it counts the Apply calls that changed an order.
type failingApply struct {
	orders.Store
	fail    applyFunc
	calls   atomic.Int32
	changed atomic.Int32
}

func (s *failingApply) Apply(ctx context.Context, id string, c orders.Change) (orders.Applied, error) {
	if s.calls.Add(1) == 1 {
		return orders.Applied{}, s.fail(ctx, id, c)
	}
	a, err := s.Store.Apply(ctx, id, c)
	if a.Changed {
		s.changed.Add(1)
	}
	return a, err
}

// TestWebhookApplyFailsOnce fails the application of a payment_intent.succeeded event midway.
// The delivery answers 500 webhook-event-not-applied and its claim is released (no record), so
// the provider's redelivery (same event id, new timestamp and signature) applies it: the order
// is paid, changed once, and one record replays the answer to later redeliveries.
func TestWebhookApplyFailsOnce(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T) (stores, applyFunc)
	}{
		{"on memory, the order store fails one Apply", func(t *testing.T) (stores, applyFunc) {
			return memoryStores(), failOnce
		}},
		{"on DynamoDB Local, the order store fails one Apply", func(t *testing.T) (stores, applyFunc) {
			return dynamoStores(t, testenv.DynamoClient(t)), failOnce
		}},
		{"on a DynamoDB Local stopped during the Apply and restarted before the answer", func(t *testing.T) (stores, applyFunc) {
			db := ownDynamoDB(t)
			c, err := ddb.NewLambdaClient(db.Endpoint, failFast)
			if err != nil {
				t.Fatal(err)
			}
			s := dynamoStores(t, c)
			return s, func(ctx context.Context, id string, c orders.Change) error {
				db.Stop()
				_, err := s.orders.Apply(ctx, id, c)
				if rerr := db.Restart(); rerr != nil {
					t.Errorf("restart DynamoDB Local: %v", rerr)
				}
				if err == nil {
					t.Errorf("Apply on a stopped DynamoDB Local succeeded")
					return errors.New("test: Apply did not fail")
				}
				return err
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			s, fail := tc.setup(t)
			store := &failingApply{Store: s.orders, fail: fail}
			clk := testenv.NewClock(time.Now().UTC().Truncate(time.Second)) // real time: TTL deletion follows it
			secret := webhook.NewSecret()
			verifier, err := webhook.NewStripeVerifier([]string{secret}, 0)
			if err != nil {
				t.Fatal(err)
			}
			h := webhook.NewHandler(webhook.Options{Stripe: verifier, Orders: store, Idem: s.keys, Now: clk.Now, Logger: quiet})
			const orderID = "ord_webhook_fault"
			if err := s.orders.Create(ctx, orders.Order{ID: orderID, CartID: "c", Amount: 4200, Currency: "eur",
				Status: orders.Created, CreatedAt: clk.Now(), UpdatedAt: clk.Now()}); err != nil {
				t.Fatal(err)
			}
			ev := stripeEvent("evt_fault_1", "pi_fault_1", orderID, 4200, "eur", clk.Now())
			deliver := func() *httptest.ResponseRecorder { // signed now, as every (re)delivery is
				r := httptest.NewRequestWithContext(ctx, http.MethodPost, webhook.Path, bytes.NewReader(ev))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set(webhook.StripeSignatureHeader, webhook.SignStripe(secret, clk.Now(), ev))
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w
			}
			assertState := func(status orders.Status, changed, records int) {
				t.Helper()
				o, err := s.orders.Get(ctx, orderID)
				n, cerr := s.orders.Count(ctx)
				if err != nil || cerr != nil || o.Status != status || n != 1 ||
					int(store.changed.Load()) != changed || s.records(t) != records {
					t.Fatalf("order %s (%v), %d orders (%v), changed %d times, %d records; want %s, 1 order, changed %d, %d records",
						o.Status, err, n, cerr, store.changed.Load(), s.records(t), status, changed, records)
				}
			}

			testenv.AssertProblem(t, deliver(), http.StatusInternalServerError, problem.EventNotApplied)
			assertState(orders.Created, 0, 0) // not applied, claim released

			clk.Add(time.Hour) // Stripe's retry: same event id, new timestamp and signature
			second := deliver()
			var res webhook.Result
			if second.Code != http.StatusOK || replayed(second) || json.Unmarshal(second.Body.Bytes(), &res) != nil ||
				!res.Received || !res.Applied || res.OrderID != orderID || res.Status != string(orders.Paid) {
				t.Fatalf("the redelivery: %d %v %s, want 200 applied", second.Code, second.Header(), second.Body)
			}
			if o, _ := s.orders.Get(ctx, orderID); o.PaymentIntentID != "pi_fault_1" {
				t.Fatalf("order %+v: want PaymentIntent pi_fault_1", o)
			}
			assertState(orders.Paid, 1, 1)

			clk.Add(time.Hour)
			third := deliver()
			if third.Code != http.StatusOK || !replayed(third) || third.Body.String() != second.Body.String() {
				t.Fatalf("a later redelivery: %d %v %s, want the replay of %s", third.Code, third.Header(), third.Body, second.Body)
			}
			if store.calls.Load() != 2 {
				t.Fatalf("%d Apply calls, want 2 (the failed one and the applied one)", store.calls.Load())
			}
			assertState(orders.Paid, 1, 1)
		})
	}
}

func failOnce(context.Context, string, orders.Change) error {
	return errors.New("injected fault: the order store failed")
}

// stripeEvent returns a payment_intent.succeeded event for intent and orderID, as Stripe sends it.
func stripeEvent(id, intent, orderID string, amount int, currency string, created time.Time) []byte {
	b, err := json.Marshal(map[string]any{"id": id, "object": "event", "type": "payment_intent.succeeded",
		"created": created.Unix(), "livemode": false, "pending_webhooks": 1,
		"data": map[string]any{"object": map[string]any{"id": intent, "object": "payment_intent",
			"status": "succeeded", "amount": amount, "currency": currency, "metadata": map[string]string{"order_id": orderID}}}})
	if err != nil {
		panic(err)
	}
	return b
}
