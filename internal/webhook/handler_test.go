package webhook_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/testenv"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// forEachStore runs test on the memory stores and on fresh DynamoDB Local tables.
func forEachStore(t *testing.T, test func(t *testing.T, e *env), opts ...option) {
	for _, store := range stores {
		t.Run("on "+store, func(t *testing.T) {
			t.Parallel()
			test(t, newEnv(t, store, opts...))
		})
	}
}

func TestConcurrentDuplicatesAreAppliedOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.createOrder(t, "ord_1")
		body := event("evt_storm", "payment_intent.succeeded", "ord_1", e.clock.Now())
		const n = 20
		answers := make([]*httptest.ResponseRecorder, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			// Each attempt carries its own timestamp and signature, as a redelivery does.
			r := e.stripe(body, e.clock.Now().Add(-time.Duration(i)*time.Second))
			wg.Go(func() {
				<-start
				answers[i] = e.do(r)
			})
		}
		close(start)
		wg.Wait()
		// Replays repeat the stored answer byte for byte, applied:true included: count the
		// answers that were executed rather than replayed.
		applied, executed := 0, 0
		var fresh []string
		for _, w := range answers {
			if !replayed(w) {
				fresh = append(fresh, fmt.Sprintf("%d %s", w.Code, strings.TrimSpace(w.Body.String())))
			}
		}
		if len(fresh) != 1 {
			t.Logf("logs:\n%s", e.logs.String())
		}
		for _, w := range answers {
			res := result(t, w)
			if replayed(w) {
				if w.Body.String() != answers[0].Body.String() {
					t.Fatalf("a replay differs: %s vs %s", w.Body, answers[0].Body)
				}
				continue
			}
			executed++
			if res.Applied {
				applied++
			}
		}
		if executed != 1 || applied != 1 || e.orders.changed.Load() != 1 {
			t.Fatalf("%d answers executed, %d of them applied, %d Apply calls changed the order; want 1, 1, 1; fresh answers: %q",
				executed, applied, e.orders.changed.Load(), fresh)
		}
		if got := e.status(t, "ord_1"); got != orders.Paid {
			t.Fatalf("order is %s, want paid", got)
		}
	})
}

func TestDuplicateReplaysTheStoredAnswer(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.createOrder(t, "ord_1")
		body := event("evt_1", "payment_intent.succeeded", "ord_1", e.clock.Now())
		first := e.do(e.stripe(body, e.clock.Now()))
		if res := result(t, first); !res.Applied || res.OrderID != "ord_1" || res.Status != "paid" {
			t.Fatalf("first delivery: %s", first.Body)
		}
		e.clock.Add(time.Hour) // Stripe's retry an hour later: new timestamp, new signature
		again := e.do(e.stripe(body, e.clock.Now()))
		if !replayed(again) || again.Code != http.StatusOK || again.Body.String() != first.Body.String() {
			t.Fatalf("redelivery: %d %v %s", again.Code, again.Header(), again.Body)
		}
		if e.orders.changed.Load() != 1 {
			t.Fatalf("order changed %d times", e.orders.changed.Load())
		}

		t.Run("a redelivery just within the TTL still replays", func(t *testing.T) {
			e.clock.Add(webhook.DefaultTTL - time.Hour - time.Minute)
			if w := e.do(e.stripe(body, e.clock.Now())); !replayed(w) {
				t.Fatalf("got %d %s, want a replay", w.Code, w.Body)
			}
		})
		t.Run("after the TTL the event runs again and changes nothing", func(t *testing.T) {
			e.clock.Add(2 * time.Minute)
			w := e.do(e.stripe(body, e.clock.Now()))
			if res := result(t, w); replayed(w) || res.Applied {
				t.Fatalf("got %v %s, want a fresh answer with applied false", w.Header(), w.Body)
			}
		})
	})
}

func TestEventsOutOfOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.createOrder(t, "ord_1")
		now := e.clock.Now()
		steps := []struct {
			id, typ string
			applied bool
			want    orders.Status
		}{
			{"evt_paid", "payment_intent.succeeded", true, orders.Paid},
			{"evt_action", "payment_intent.requires_action", false, orders.Paid},
			{"evt_failed", "payment_intent.payment_failed", false, orders.Paid},
			{"evt_refund", "charge.refunded", true, orders.Refunded},
			{"evt_paid_again", "payment_intent.succeeded", false, orders.Refunded},
		}
		for _, s := range steps {
			// Events created earlier arrive later: the store's rank decides, not arrival.
			w := e.do(e.stripe(event(s.id, s.typ, "ord_1", now.Add(-time.Minute)), now))
			if res := result(t, w); res.Applied != s.applied {
				t.Fatalf("%s: %s, want applied %v", s.typ, w.Body, s.applied)
			}
			if got := e.status(t, "ord_1"); got != s.want {
				t.Fatalf("after %s the order is %s, want %s", s.typ, got, s.want)
			}
		}
		o, err := e.orders.Get(t.Context(), "ord_1")
		if err != nil || o.PaymentIntentID != intentOf("ord_1") {
			t.Fatalf("order %+v, %v: want the first event's payment intent", o, err)
		}
	})
}

func TestFailedApplyIsRetried(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.createOrder(t, "ord_1")
		e.orders.fail.Store(1)
		body := event("evt_1", "payment_intent.succeeded", "ord_1", e.clock.Now())
		w := e.do(e.stripe(body, e.clock.Now()))
		testenv.AssertProblem(t, w, http.StatusInternalServerError, problem.EventNotApplied)
		if e.stored(t, webhook.StripeScope, "evt_1") || e.status(t, "ord_1") != orders.Created {
			t.Fatal("a failed apply left a record or changed the order")
		}
		e.clock.Add(time.Minute)
		w = e.do(e.stripe(body, e.clock.Now()))
		if res := result(t, w); !res.Applied || replayed(w) {
			t.Fatalf("redelivery: %v %s", w.Header(), w.Body)
		}
		if e.status(t, "ord_1") != orders.Paid || e.orders.changed.Load() != 1 {
			t.Fatalf("order %s, changed %d times", e.status(t, "ord_1"), e.orders.changed.Load())
		}
	})
}

func TestRejectedDeliveriesStoreNothing(t *testing.T) {
	for _, store := range stores {
		t.Run("on "+store, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, store)
			e.createOrder(t, "ord_1")
			now := e.clock.Now()
			body := event("evt_1", "payment_intent.succeeded", "ord_1", now)
			forged := e.stripe(body, now)
			forged.Header.Set(webhook.StripeSignatureHeader, webhook.SignStripe(webhook.NewSecret(), now, body))
			unsigned := e.stripe(body, now)
			unsigned.Header.Del(webhook.StripeSignatureHeader)
			tampered := e.stripe(body, now)
			tampered.Body = http.NoBody
			huge := append(body[:len(body)-1:len(body)-1], []byte(`,"pad":"`+strings.Repeat("x", webhook.MaxBodyBytes)+`"}`)...)
			garbage := []byte(`{"id":"evt_1","type":`)
			stdGarbage := e.standard(t, "msg_garbage", garbage, now)
			stdForged := e.standard(t, "msg_1", body, now)
			stdForged.Header.Set(webhook.StandardSignatureHeader, "v1,"+strings.Repeat("A", 43)+"=")

			tests := []struct {
				name   string
				r      *http.Request
				status int
				typ    string
			}{
				{"a forged signature", forged, http.StatusBadRequest, problem.SignatureInvalid},
				{"a stale timestamp", e.stripe(body, now.Add(-webhook.DefaultTolerance-time.Second)), http.StatusBadRequest, problem.SignatureInvalid},
				{"a far-future timestamp", e.stripe(body, now.Add(webhook.DefaultTolerance+time.Second)), http.StatusBadRequest, problem.SignatureInvalid},
				{"no signature header", unsigned, http.StatusBadRequest, problem.SignatureInvalid},
				{"a signature over another body", tampered, http.StatusBadRequest, problem.SignatureInvalid},
				{"an oversized body", e.stripe(huge, now), http.StatusRequestEntityTooLarge, problem.BodyTooLarge},
				{"signed garbage", e.stripe(garbage, now), http.StatusBadRequest, problem.EventInvalid},
				{"signed garbage under Standard Webhooks", stdGarbage, http.StatusBadRequest, problem.EventInvalid},
				{"a forged Standard Webhooks signature", stdForged, http.StatusBadRequest, problem.SignatureInvalid},
			}
			for _, tt := range tests {
				t.Run(tt.name+" is refused", func(t *testing.T) {
					testenv.AssertProblem(t, e.do(tt.r), tt.status, tt.typ)
				})
			}
			if e.mem != nil && e.mem.Len() != 0 {
				t.Fatalf("%d idempotency records stored", e.mem.Len())
			}
			for _, k := range []struct{ scope, id string }{
				{webhook.StripeScope, "evt_1"}, {webhook.StandardScope, "msg_garbage"}, {webhook.StandardScope, "msg_1"},
			} {
				if e.stored(t, k.scope, k.id) {
					t.Fatalf("a record for %s %s was stored", k.scope, k.id)
				}
			}
			if got := e.status(t, "ord_1"); got != orders.Created || e.orders.changed.Load() != 0 {
				t.Fatalf("order is %s after rejected deliveries", got)
			}
			// The authentic delivery still applies afterwards.
			if res := result(t, e.do(e.stripe(body, now))); !res.Applied {
				t.Fatal("the authentic delivery was not applied")
			}
		})
	}
}

func TestRejectionsAreLoggedWithoutSecrets(t *testing.T) {
	e := newEnv(t, "memory")
	body := event("evt_1", "payment_intent.succeeded", "ord_1", e.clock.Now())
	r := e.stripe(body, e.clock.Now())
	sig := webhook.SignStripe(webhook.NewSecret(), e.clock.Now(), body)
	r.Header.Set(webhook.StripeSignatureHeader, sig)
	testenv.AssertProblem(t, e.do(r), http.StatusBadRequest, problem.SignatureInvalid)
	logs := e.logs.String()
	if n := strings.Count(logs, "\n"); n != 1 || !strings.Contains(logs, `"msg":"webhook rejected"`) ||
		!strings.Contains(logs, "no matching signature") || !strings.Contains(logs, `"scheme":"stripe"`) {
		t.Fatalf("want one rejection line with its reason, got:\n%s", logs)
	}
	_, v1, _ := strings.Cut(sig, "v1=")
	for _, secret := range []string{e.stripeSecret, e.standardSecret, v1[:16]} {
		if strings.Contains(logs, secret) {
			t.Fatalf("the log line contains a secret or the signature:\n%s", logs)
		}
	}
}

func TestUnconfiguredSchemesAreRejected(t *testing.T) {
	tests := []struct {
		name string
		opt  option
		std  bool
	}{
		{"a Stripe delivery without a Stripe secret", func(o *webhook.Options) { o.Stripe = nil }, false},
		{"a Standard Webhooks delivery without a Standard secret", func(o *webhook.Options) { o.Standard = nil }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			e := newEnv(t, "memory", tt.opt)
			e.createOrder(t, "ord_1")
			body := event("evt_1", "payment_intent.succeeded", "ord_1", e.clock.Now())
			r := e.stripe(body, e.clock.Now())
			if tt.std {
				r = e.standard(t, "msg_1", body, e.clock.Now())
			}
			testenv.AssertProblem(t, e.do(r), http.StatusBadRequest, problem.SignatureInvalid)
			if e.mem.Len() != 0 || e.status(t, "ord_1") != orders.Created {
				t.Fatal("something was stored")
			}
		})
	}
}

func TestIgnoredEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.createOrder(t, "ord_1")
		now := e.clock.Now()
		tests := []struct {
			name, id, typ, order, reason string
		}{
			{"an unknown event type", "evt_type", "customer.created", "ord_1", webhook.ReasonIgnoredType},
			{"an event without order_id", "evt_noorder", "payment_intent.succeeded", "", webhook.ReasonNoOrderID},
			{"an event for an unknown order created long ago", "evt_old", "payment_intent.succeeded", "ord_gone", webhook.ReasonUnknownOrder},
		}
		for _, tt := range tests {
			t.Run(tt.name+" is acknowledged, not applied, and its duplicate replays", func(t *testing.T) {
				created := now
				if tt.reason == webhook.ReasonUnknownOrder {
					created = now.Add(-webhook.DefaultInFlight)
				}
				body := event(tt.id, tt.typ, tt.order, created)
				first := e.do(e.stripe(body, now))
				if res := result(t, first); res.Applied || res.Reason != tt.reason {
					t.Fatalf("got %s, want reason %q", first.Body, tt.reason)
				}
				if tt.reason == webhook.ReasonIgnoredType && first.Body.String() != `{"received":true,"applied":false,"reason":"ignored event type"}`+"\n" {
					t.Fatalf("body %q", first.Body)
				}
				again := e.do(e.stripe(body, now.Add(time.Second)))
				if !replayed(again) || again.Body.String() != first.Body.String() {
					t.Fatalf("duplicate: %v %s", again.Header(), again.Body)
				}
			})
		}
		if got := e.status(t, "ord_1"); got != orders.Created {
			t.Fatalf("order is %s", got)
		}
	})
}

func TestEventBeforeItsOrderIsRetried(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		created := e.clock.Now()
		body := event("evt_early", "payment_intent.succeeded", "ord_late", created)
		e.clock.Add(webhook.DefaultInFlight - time.Second)
		w := e.do(e.stripe(body, e.clock.Now()))
		p := testenv.AssertProblem(t, w, http.StatusServiceUnavailable, problem.EventNotApplied)
		if p.RetryAfter <= 0 || w.Header().Get("Retry-After") == "" {
			t.Fatalf("503 without Retry-After: %v %s", w.Header(), w.Body)
		}
		if e.stored(t, webhook.StripeScope, "evt_early") {
			t.Fatal("the 503 was stored: the redelivery would replay it")
		}
		// The checkout completes and stores its order; the provider's redelivery applies.
		e.createOrder(t, "ord_late")
		w = e.do(e.stripe(body, e.clock.Now()))
		if res := result(t, w); !res.Applied || e.status(t, "ord_late") != orders.Paid {
			t.Fatalf("redelivery: %s", w.Body)
		}
	})
}

func TestStandardWebhooksDeliveries(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.createOrder(t, "ord_1")
		body := event("evt_std", "payment_intent.succeeded", "ord_1", e.clock.Now())
		first := e.do(e.standard(t, "msg_1", body, e.clock.Now()))
		if res := result(t, first); !res.Applied {
			t.Fatalf("first: %s", first.Body)
		}
		e.clock.Add(time.Minute)
		again := e.do(e.standard(t, "msg_1", body, e.clock.Now()))
		if !replayed(again) || again.Body.String() != first.Body.String() {
			t.Fatalf("retry with the same webhook-id: %v %s", again.Header(), again.Body)
		}
		if !e.stored(t, webhook.StandardScope, "msg_1") || e.stored(t, webhook.StripeScope, "msg_1") {
			t.Fatal("the delivery is not stored under the Standard Webhooks scope alone")
		}
		// Another message id is another delivery; the order is already paid.
		other := e.do(e.standard(t, "msg_2", body, e.clock.Now()))
		if res := result(t, other); replayed(other) || res.Applied {
			t.Fatalf("another message: %v %s", other.Header(), other.Body)
		}
		// The same id over the Stripe scheme is its own key space.
		if res := result(t, e.do(e.stripe(body, e.clock.Now()))); res.Applied {
			t.Fatal("applied twice")
		}
		if e.orders.changed.Load() != 1 {
			t.Fatalf("order changed %d times", e.orders.changed.Load())
		}
	})
}

func TestDeliveryIDReusedForAnotherEvent(t *testing.T) {
	e := newEnv(t, "memory")
	e.createOrder(t, "ord_1")
	now := e.clock.Now()
	first := event("evt_1", "payment_intent.succeeded", "ord_1", now)
	// Only pending_webhooks differs: a redelivery of the same event, replayed.
	var m map[string]any
	if err := json.Unmarshal(first, &m); err != nil {
		t.Fatal(err)
	}
	m["pending_webhooks"] = 2
	volatile, _ := json.Marshal(m)
	result(t, e.do(e.stripe(first, now)))
	if w := e.do(e.stripe(volatile, now)); !replayed(w) {
		t.Fatalf("a redelivery differing in pending_webhooks: %d %s", w.Code, w.Body)
	}
	// Same id, different change: the engine refuses it.
	other := event("evt_1", "charge.refunded", "ord_1", now)
	if p := testenv.AssertProblem(t, e.do(e.stripe(other, now)), http.StatusUnprocessableEntity, problem.KeyMismatch); p.Detail != webhook.MismatchDetail {
		t.Fatalf("detail %q, want the wording about events", p.Detail)
	}
	if e.status(t, "ord_1") != orders.Paid {
		t.Fatal("the conflicting event was applied")
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t, "memory")
	tests := []struct {
		name, method, path string
		status             int
		typ                string
	}{
		{"GET /webhooks is not allowed", http.MethodGet, "/webhooks", http.StatusMethodNotAllowed, problem.MethodNotAllowed},
		{"PUT /webhooks is not allowed", http.MethodPut, "/webhooks", http.StatusMethodNotAllowed, problem.MethodNotAllowed},
		{"another path is not found", http.MethodPost, "/webhook", http.StatusNotFound, problem.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(httptest.NewRequest(tt.method, tt.path, nil))
			testenv.AssertProblem(t, w, tt.status, tt.typ)
			if tt.status == http.StatusMethodNotAllowed && w.Header().Get("Allow") != http.MethodPost {
				t.Fatalf("Allow = %q", w.Header().Get("Allow"))
			}
		})
	}
	if e.mem.Len() != 0 {
		t.Fatal("something was stored")
	}
}

func TestNewHandlerRequiresStores(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewHandler without stores did not panic")
		}
	}()
	webhook.NewHandler(webhook.Options{Idem: idem.NewMemoryStore()})
}
