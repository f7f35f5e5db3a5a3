package payment_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestStripeLookupsAgainstStripeMock(t *testing.T) {
	base := testenv.StripeMock(t)
	s := newStripe(t, base)
	ctx := context.Background()
	in, err := s.CreatePayment(ctx, payment.Request{OrderID: "ord_m", Amount: 1999, Currency: "eur", IdempotencyKey: "key-lookup-1"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Retrieve(ctx, in.ID)
	if err != nil || got.ID != in.ID || got.Outcome == "" {
		t.Fatalf("Retrieve(%s) = %+v, %v", in.ID, got, err)
	}
	// stripe-mock answers a search with its fixture list, whatever the query: enough to prove
	// the call and its decoding.
	found, err := s.FindByOrder(ctx, "ord_m")
	if err != nil {
		t.Fatalf("FindByOrder = %v", err)
	}
	if found != nil && !strings.HasPrefix(found.ID, "pi_") {
		t.Fatalf("FindByOrder = %+v", found)
	}
}

// stripeRoutes serves canned answers by path and records the query strings it saw.
func stripeRoutes(t *testing.T, routes map[string]string, header http.Header) (string, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.URL.Path+"?"+r.URL.RawQuery+string(body))
		mu.Unlock()
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		answer, ok := routes[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, stripeErrorBody("invalid_request_error", "resource_missing", ""))
			return
		}
		status := http.StatusOK // an answer may start with its status: "500 {...}"
		if code, rest, ok := strings.Cut(answer, " "); ok && len(code) == 3 {
			if n, err := strconv.Atoi(code); err == nil {
				status, answer = n, rest
			}
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

func pi(id, status, extra string) string {
	return `{"id":"` + id + `","object":"payment_intent","status":"` + status +
		`","amount":4200,"currency":"eur","metadata":{"order_id":"ord_1"}` + extra + `}`
}

func TestStripeRetrieveMapsStatuses(t *testing.T) {
	cases := []struct{ status, extra string }{
		{"succeeded", ""}, {"requires_action", ""}, {"processing", ""}, {"requires_payment_method", ""},
		{"requires_payment_method", `,"last_payment_error":{"type":"card_error","code":"card_declined"}`},
		{"canceled", ""},
	}
	want := []payment.Outcome{payment.Succeeded, payment.RequiresAction, payment.Pending, payment.Pending, payment.Failed, payment.Canceled}
	for i, c := range cases {
		base, _ := stripeRoutes(t, map[string]string{"/v1/payment_intents/pi_1": pi("pi_1", c.status, c.extra)}, nil)
		got, err := newStripe(t, base).Retrieve(context.Background(), "pi_1")
		w := payment.Intent{ID: "pi_1", Outcome: want[i], Amount: 4200, Currency: "eur", OrderID: "ord_1"}
		if err != nil || got != w {
			t.Errorf("%s%s: Retrieve = %+v, %v, want %+v", c.status, c.extra, got, err, w)
		}
	}
	base, _ := stripeRoutes(t, nil, nil)
	if _, err := newStripe(t, base).Retrieve(context.Background(), "pi_gone"); !errors.Is(err, payment.ErrRejected) {
		t.Fatalf("Retrieve of an unknown intent = %v, want ErrRejected", err)
	}
}

func TestStripeFindByOrder(t *testing.T) {
	search := "/v1/payment_intents/search"
	t.Run("it searches the order's metadata and prefers the intent that succeeded", func(t *testing.T) {
		list := `{"object":"search_result","has_more":false,"data":[` + pi("pi_new", "canceled", "") + `,` + pi("pi_paid", "succeeded", "") + `]}`
		base, seen := stripeRoutes(t, map[string]string{search: list}, nil)
		got, err := newStripe(t, base).FindByOrder(context.Background(), "ord_1")
		if err != nil || got == nil || got.ID != "pi_paid" || got.Outcome != payment.Succeeded {
			t.Fatalf("FindByOrder = %+v, %v, want pi_paid", got, err)
		}
		if q := seen(); len(q) != 1 || !strings.Contains(q[0], "query=metadata%5B%27order_id%27%5D%3A%27ord_1%27") {
			t.Fatalf("requests %q, want one search for metadata['order_id']:'ord_1'", q)
		}
	})
	t.Run("without a match it is nil", func(t *testing.T) {
		base, _ := stripeRoutes(t, map[string]string{search: `{"object":"search_result","has_more":false,"data":[]}`}, nil)
		if got, err := newStripe(t, base).FindByOrder(context.Background(), "ord_1"); err != nil || got != nil {
			t.Fatalf("FindByOrder = %+v, %v, want nil, nil", got, err)
		}
	})
	t.Run("an order id that cannot be quoted is refused before any request", func(t *testing.T) {
		base, seen := stripeRoutes(t, nil, nil)
		if _, err := newStripe(t, base).FindByOrder(context.Background(), "ord_' OR status:'succeeded"); err == nil || len(seen()) != 0 {
			t.Fatalf("FindByOrder with a quote = %v, %d requests", err, len(seen()))
		}
	})
}

func TestStripeReplayedFailure(t *testing.T) {
	body := "500 " + stripeErrorBody("api_error", "", "")
	replayed := http.Header{"Idempotent-Replayed": {"true"}}
	base, _ := stripeRoutes(t, map[string]string{"/v1/payment_intents": body}, replayed)
	_, err := newStripe(t, base, payment.WithMaxNetworkRetries(0)).CreatePayment(context.Background(), testRequest)
	if !errors.Is(err, payment.ErrReplayedFailure) || !errors.Is(err, payment.ErrUnavailable) {
		t.Fatalf("a replayed 500 = %v, want ErrReplayedFailure and ErrUnavailable", err)
	}
	base, _ = stripeRoutes(t, map[string]string{"/v1/payment_intents": body}, nil)
	_, err = newStripe(t, base, payment.WithMaxNetworkRetries(0)).CreatePayment(context.Background(), testRequest)
	if errors.Is(err, payment.ErrReplayedFailure) || !errors.Is(err, payment.ErrUnavailable) {
		t.Fatalf("a first 500 = %v, want ErrUnavailable only", err)
	}
}

func TestStripeTimeBudget(t *testing.T) {
	// That StripeWorstCase fits the handler's budget (the function's timeout in template.yaml
	// minus idem.Reserve) is checked by internal/samtemplate, which reads both.
	t.Run("a call ends at its context's deadline, without retrying", func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		attempts := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			attempts++
			mu.Unlock()
			select { // hang until the client gives up (or the test ends)
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := newStripe(t, srv.URL).CreatePayment(ctx, testRequest)
		elapsed := time.Since(start)
		if !errors.Is(err, payment.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrUnavailable and DeadlineExceeded", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if attempts != 1 || elapsed > 2*time.Second {
			t.Fatalf("%d attempts in %s, want 1 ending near the 200 ms deadline", attempts, elapsed)
		}
	})
}

func TestLocalLookups(t *testing.T) {
	l := payment.NewLocal()
	ctx := context.Background()
	paid, err := l.CreatePayment(ctx, payment.Request{OrderID: "ord_1", Amount: 100, Currency: "eur", PaymentMethod: "pm_card_visa", IdempotencyKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.CreatePayment(ctx, payment.Request{OrderID: "ord_2", Amount: 200, Currency: "usd", PaymentMethod: "pm_card_chargeDeclined", IdempotencyKey: "k2"})
	var d *payment.DeclinedError
	if !errors.As(err, &d) {
		t.Fatal(err)
	}
	if got, err := l.Retrieve(ctx, paid.ID); err != nil || got != (payment.Intent{ID: paid.ID, Outcome: payment.Succeeded,
		ClientSecret: paid.ClientSecret, Amount: 100, Currency: "eur", OrderID: "ord_1"}) {
		t.Fatalf("Retrieve = %+v, %v", got, err)
	}
	if got, err := l.FindByOrder(ctx, "ord_2"); err != nil || got == nil || got.ID != d.IntentID || got.Outcome != payment.Failed {
		t.Fatalf("FindByOrder(ord_2) = %+v, %v, want the declined intent as Failed", got, err)
	}
	if got, err := l.FindByOrder(ctx, "ord_3"); err != nil || got != nil {
		t.Fatalf("FindByOrder(ord_3) = %+v, %v, want nil", got, err)
	}
	if _, err := l.Retrieve(ctx, "pi_unknown"); !errors.Is(err, payment.ErrRejected) {
		t.Fatalf("Retrieve unknown = %v", err)
	}
}
