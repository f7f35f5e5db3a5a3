package webhook_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/webhook"
)

func TestForeignIntentIsAcknowledgedNotApplied(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.createOrder(t, "ord_1")
		now := e.clock.Now()
		// The order's own intent is recorded by its first event.
		if res := result(t, e.do(e.stripe(eventFor("evt_own", "payment_intent.requires_action", "ord_1", "pi_own", 0, now), now))); !res.Applied {
			t.Fatal("the order's own event was not applied")
		}
		// A succeeded event for another intent naming the same order: 200, never paid.
		w := e.do(e.stripe(eventFor("evt_foreign", "payment_intent.succeeded", "ord_1", "pi_other", 0, now), now))
		res := result(t, w)
		if res.Applied || res.Reason != webhook.ReasonForeignIntent || res.OrderID != "ord_1" {
			t.Fatalf("foreign intent: %s", w.Body)
		}
		if got := e.status(t, "ord_1"); got != orders.RequiresAction {
			t.Fatalf("order is %s, want requires_action", got)
		}
		// One warning line, with an Embedded Metric Format block counting it.
		var line map[string]any
		for l := range strings.SplitSeq(e.logs.String(), "\n") {
			if strings.Contains(l, webhook.ReasonForeignIntent) {
				if err := json.Unmarshal([]byte(l), &line); err != nil {
					t.Fatal(err)
				}
			}
		}
		aws, _ := line["_aws"].(map[string]any)
		metrics, _ := aws["CloudWatchMetrics"].([]any)
		if line["level"] != "WARN" || line["ForeignIntent"] != 1.0 || len(metrics) != 1 ||
			!strings.Contains(e.logs.String(), `"Namespace":"`+webhook.MetricsNamespace+`"`) {
			t.Fatalf("foreign intent log line = %v", line)
		}
	})
}

func TestEventWithAnotherAmountIsForeign(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.createOrder(t, "ord_1")
		now := e.clock.Now()
		var m map[string]any
		if err := json.Unmarshal(event("evt_1", "payment_intent.succeeded", "ord_1", now), &m); err != nil {
			t.Fatal(err)
		}
		m["data"].(map[string]any)["object"].(map[string]any)["amount"] = 1
		body, _ := json.Marshal(m)
		if res := result(t, e.do(e.stripe(body, now))); res.Applied || res.Reason != webhook.ReasonForeignIntent {
			t.Fatalf("an intent of another amount: %+v", res)
		}
		if got := e.status(t, "ord_1"); got != orders.Created {
			t.Fatalf("order is %s", got)
		}
	})
}

func TestPartialThenFullRefund(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.createOrder(t, "ord_1")
		now := e.clock.Now()
		pi := intentOf("ord_1")
		result(t, e.do(e.stripe(event("evt_paid", "payment_intent.succeeded", "ord_1", now), now)))
		steps := []struct {
			id       string
			refunded int64
			applied  bool
			status   orders.Status
			stored   int64
		}{
			{"evt_r1", 1000, true, orders.Paid, 1000},
			{"evt_r0", 500, false, orders.Paid, 1000}, // an older partial refund, delivered late
			{"evt_r2", 4200, true, orders.Refunded, 4200},
		}
		for _, s := range steps {
			e.clock.Add(time.Second)
			w := e.do(e.stripe(eventFor(s.id, "charge.refunded", "ord_1", pi, s.refunded, now), e.clock.Now()))
			res := result(t, w)
			o, err := e.orders.Get(t.Context(), "ord_1")
			if err != nil {
				t.Fatal(err)
			}
			if res.Applied != s.applied || o.Status != s.status || o.AmountRefunded != s.stored ||
				res.Status != string(s.status) || res.AmountRefunded != s.stored {
				t.Fatalf("%s: answer %s, order %s %d; want applied %v, %s %d", s.id, w.Body, o.Status, o.AmountRefunded, s.applied, s.status, s.stored)
			}
		}
		// The order read shows it.
		o, _ := e.orders.Get(t.Context(), "ord_1")
		b, _ := json.Marshal(o)
		if !strings.Contains(string(b), `"amount_refunded":4200`) {
			t.Fatalf("order JSON %s", b)
		}
	})
}
