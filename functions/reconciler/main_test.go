package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/reconcile"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestScheduledRun sets the environment the template gives the function (DynamoDB Local, the
// local payment provider), stores an order a checkout left in created 20 minutes ago before it
// reached the provider, and invokes the handler with the sample scheduled event: the provider
// has no intent for the order, so the run abandons it.
func TestScheduledRun(t *testing.T) {
	client := testenv.DynamoClient(t)
	table := testenv.Table(t, client, orders.Table("reconciler-fn-orders"))
	for k, v := range map[string]string{
		config.EnvOrdersTable:      table,
		config.EnvIdempotencyTable: "unused",
		config.EnvDynamoDBEndpoint: testenv.DynamoEndpoint(t),
		config.EnvStripeSecretKey:  "",
		config.EnvPaymentProvider:  config.ProviderLocal, // chosen explicitly: it holds no intent for this order
		config.EnvReconcileAfter:   "10m",
		config.EnvReconcileLimit:   "5",
		"AWS_REGION":               "us-east-1",
		"AWS_ACCESS_KEY_ID":        "local",
		"AWS_SECRET_ACCESS_KEY":    "local",
	} {
		t.Setenv(k, v)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	var logs testenv.LogBuffer
	run, err := newRun(cfg, &logs)
	if err != nil {
		t.Fatal(err)
	}
	store := orders.NewDynamoStore(client, table)
	at := time.Now().UTC().Add(-20 * time.Minute)
	ctx := context.Background()
	if err := store.Create(ctx, orders.Order{ID: "ord_crashed", CartID: "c", Amount: 4200, Currency: "eur",
		Status: orders.Created, ProviderKey: "checkout-k", CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	event, err := os.ReadFile("../../events/reconciler/schedule.json")
	if err != nil {
		t.Fatal(err)
	}
	var rep reconcile.Report
	deadline := time.Now().Add(5 * time.Second)
	for rep.Examined == 0 { // the index is eventually consistent
		ictx, cancel := context.WithTimeout(ctx, 25*time.Second)
		rep, err = run(ictx, json.RawMessage(event))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal(errors.New("the run never saw the order"))
		}
	}
	if rep.Examined != 1 || rep.Abandoned != 1 {
		t.Fatalf("report %+v, want the order abandoned", rep)
	}
	if o, err := store.Get(ctx, "ord_crashed"); err != nil || o.Status != orders.Abandoned {
		t.Fatalf("order %+v, %v, want abandoned", o, err)
	}
	t.Run("a run out of time returns what it did, without an error", func(t *testing.T) {
		ictx, cancel := context.WithTimeout(ctx, time.Second) // less than the reserve
		defer cancel()
		if _, err := run(ictx, json.RawMessage(event)); err != nil {
			t.Fatalf("run = %v", err)
		}
	})
}
