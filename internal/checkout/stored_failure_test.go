package checkout_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// storingProvider keeps idempotency keys as Stripe does: the first answer for a key is stored,
// a 500 included, and replayed to every later request with the key (a stored 500 comes back as
// ErrReplayedFailure, Stripe's Idempotent-Replayed: true). Keys in failFirst get a 500 the
// first time. Its search finds the intents it created by order id.
type storingProvider struct {
	mu        sync.Mutex
	failFirst map[string]bool
	answers   map[string]error
	intents   map[string]payment.Intent // by key
	byOrder   map[string]payment.Intent
	charges   int
	searches  int
}

func newStoringProvider(failFirst ...string) *storingProvider {
	p := &storingProvider{failFirst: map[string]bool{}, answers: map[string]error{},
		intents: map[string]payment.Intent{}, byOrder: map[string]payment.Intent{}}
	for _, k := range failFirst {
		p.failFirst[k] = true
	}
	return p
}

func (p *storingProvider) CreatePayment(_ context.Context, req payment.Request) (payment.Intent, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err, ok := p.answers[req.IdempotencyKey]; ok {
		if err != nil {
			return payment.Intent{}, fmt.Errorf("%w: 500 api_error (replayed)", payment.ErrReplayedFailure)
		}
		return p.intents[req.IdempotencyKey], nil
	}
	if p.failFirst[req.IdempotencyKey] {
		p.answers[req.IdempotencyKey] = payment.ErrUnavailable
		return payment.Intent{}, fmt.Errorf("%w: 500 api_error", payment.ErrUnavailable)
	}
	p.charges++
	in := payment.Intent{ID: fmt.Sprintf("pi_%d", p.charges), Outcome: payment.Succeeded, Amount: req.Amount,
		Currency: req.Currency, OrderID: req.OrderID}
	p.answers[req.IdempotencyKey], p.intents[req.IdempotencyKey], p.byOrder[req.OrderID] = nil, in, in
	return in, nil
}

func (p *storingProvider) Retrieve(_ context.Context, id string) (payment.Intent, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, in := range p.intents {
		if in.ID == id {
			return in, nil
		}
	}
	return payment.Intent{}, &payment.RejectedError{StatusCode: 404, Type: "invalid_request_error", Message: "no such intent"}
}

func (p *storingProvider) FindByOrder(_ context.Context, orderID string) (*payment.Intent, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.searches++
	if in, ok := p.byOrder[orderID]; ok {
		return &in, nil
	}
	return nil, nil
}

// TestStoredProviderFailure: Stripe stores a 500 against its idempotency key and replays it for
// 24 hours. A checkout retried after such a failure must succeed within minutes, and never charge
// twice: once the provider's search can be trusted (checkout.SearchSettle after the key was first
// used) and shows no payment for the order, checkout moves to a new provider key, recorded on the
// order so every later attempt uses it.
func TestStoredProviderFailure(t *testing.T) {
	for _, store := range []string{"memory", "dynamodb"} {
		t.Run("on "+store, func(t *testing.T) {
			t.Parallel()
			first := checkout.ProviderKey(scoped("k1"))
			p := newStoringProvider(first)
			opts := []option{func(o *checkout.Options) { o.Payments = p }}
			if store == "dynamodb" {
				opts = append(opts, onDynamo(t, new(ddb.Counter)))
			}
			e := newEnv(t, opts...)

			testenv.AssertProblem(t, e.post("k1", validBody), http.StatusBadGateway, problem.ProviderError)
			soon := testenv.AssertProblem(t, e.post("k1", validBody), http.StatusBadGateway, problem.ProviderError)
			if soon.RetryAfter < 1 || soon.RetryAfter > int(checkout.SearchSettle/time.Second) || p.searches != 0 {
				t.Fatalf("a retry before the search settles: %+v, %d searches; want Retry-After within %v and no search", soon, p.searches, checkout.SearchSettle)
			}
			if st := e.orderStatus(t, "k1"); st != orders.Created {
				t.Fatalf("order %s, want created", st)
			}

			e.clock.Add(checkout.SearchSettle)
			w := e.post("k1", validBody)
			if w.Code != http.StatusCreated || w.Header().Get(idem.ReplayedHeader) != "" || decode(t, w).Status != orders.Paid {
				t.Fatalf("the retry after %v: %d %s, want a fresh 201 paid", checkout.SearchSettle, w.Code, w.Body)
			}
			o, err := e.orders.Get(t.Context(), checkout.OrderID(scoped("k1")))
			if err != nil || o.ProviderKey != checkout.NextProviderKey(first) || o.PaymentIntentID != "pi_1" {
				t.Fatalf("order %+v, %v; want provider key %s and pi_1", o, err, checkout.NextProviderKey(first))
			}
			again := e.post("k1", validBody)
			if again.Header().Get(idem.ReplayedHeader) != "true" || again.Body.String() != w.Body.String() {
				t.Fatalf("a later retry: %d %s, want the replay", again.Code, again.Body)
			}
			if p.charges != 1 || p.searches != 1 || e.countOrders(t) != 1 {
				t.Fatalf("%d charges, %d searches, %d orders; want 1, 1, 1", p.charges, p.searches, e.countOrders(t))
			}
		})
	}
	t.Run("a payment the search finds is the answer, under the first key", func(t *testing.T) {
		first := checkout.ProviderKey(scoped("k2"))
		p := newStoringProvider()
		e := newEnv(t, func(o *checkout.Options) { o.Payments = p })
		// The first attempt charged, but its answer became a stored 500 (Stripe failed after
		// the charge): the search must find that charge, and no second one is made.
		p.mu.Lock()
		p.charges = 1
		in := payment.Intent{ID: "pi_lost", Outcome: payment.Succeeded, Amount: 2500, Currency: "usd", OrderID: checkout.OrderID(scoped("k2"))}
		p.answers[first], p.byOrder[in.OrderID] = payment.ErrUnavailable, in
		p.mu.Unlock()
		testenv.AssertProblem(t, e.post("k2", validBody), http.StatusBadGateway, problem.ProviderError)
		e.clock.Add(checkout.SearchSettle)
		w := e.post("k2", validBody)
		if res := decode(t, w); w.Code != http.StatusCreated || res.PaymentIntentID != "pi_lost" || res.Status != orders.Paid {
			t.Fatalf("got %d %s, want 201 with pi_lost", w.Code, w.Body)
		}
		if p.charges != 1 {
			t.Fatalf("%d charges, want 1", p.charges)
		}
	})
}

func TestNextProviderKey(t *testing.T) {
	for in, want := range map[string]string{"checkout-ab": "checkout-ab/2", "checkout-ab/2": "checkout-ab/3", "checkout-ab/x": "checkout-ab/x/2"} {
		if got := checkout.NextProviderKey(in); got != want {
			t.Errorf("NextProviderKey(%q) = %q, want %q", in, got, want)
		}
	}
}
