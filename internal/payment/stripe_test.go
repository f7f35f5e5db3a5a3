package payment_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const testKey = "sk_test_123"

var quiet = payment.WithLogger(slog.New(slog.DiscardHandler))

// recorder is a RoundTripper that keeps a copy of every request it carries.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path string
	header       http.Header
	form         url.Values
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{method: req.Method, path: req.URL.Path, header: req.Header.Clone(), form: form})
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

func newStripe(t *testing.T, base string, opts ...payment.StripeOption) *payment.Stripe {
	t.Helper()
	s, err := payment.NewStripe(testKey, base, append([]payment.StripeOption{quiet}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStripeAgainstStripeMock(t *testing.T) {
	base := testenv.StripeMock(t)

	t.Run("a request without a payment method is pending and sends amount, currency, order id and the key", func(t *testing.T) {
		rec := &recorder{}
		s := newStripe(t, base, payment.WithHTTPClient(&http.Client{Transport: rec}))
		req := payment.Request{OrderID: "ord_1", Amount: 1999, Currency: "eur",
			CustomerEmail: "buyer@example.com", IdempotencyKey: "key-pending-1"}
		in, err := s.CreatePayment(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(in.ID, "pi_") || in.Outcome != payment.Pending || in.ClientSecret == "" {
			t.Fatalf("intent = %+v, want a pi_ id, Pending, a client secret", in)
		}
		reqs := rec.all()
		if len(reqs) != 1 {
			t.Fatalf("%d requests sent, want 1", len(reqs))
		}
		got := reqs[0]
		if k := got.header.Get("Idempotency-Key"); k != req.IdempotencyKey {
			t.Errorf("Idempotency-Key = %q, want %q", k, req.IdempotencyKey)
		}
		want := map[string]string{"amount": "1999", "currency": "eur", "metadata[order_id]": "ord_1",
			"receipt_email": "buyer@example.com", "automatic_payment_methods[enabled]": "true"}
		for k, v := range want {
			if g := got.form.Get(k); g != v {
				t.Errorf("form %s = %q, want %q (form %v)", k, g, v, got.form)
			}
		}
		if got.form.Has("confirm") {
			t.Errorf("form has confirm=%q without a payment method", got.form.Get("confirm"))
		}
	})

	t.Run("a request with a payment method confirms it at once", func(t *testing.T) {
		rec := &recorder{}
		s := newStripe(t, base, payment.WithHTTPClient(&http.Client{Transport: rec}))
		req := payment.Request{OrderID: "ord_2", Amount: 500, Currency: "usd",
			PaymentMethod: "pm_card_visa", IdempotencyKey: "key-confirm-1"}
		in, err := s.CreatePayment(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(in.ID, "pi_") {
			t.Fatalf("intent = %+v, want a pi_ id", in)
		}
		got := rec.all()[0]
		want := map[string]string{"confirm": "true", "payment_method": "pm_card_visa",
			"payment_method_types[0]": "card", "amount": "500", "currency": "usd"}
		for k, v := range want {
			if g := got.form.Get(k); g != v {
				t.Errorf("form %s = %q, want %q (form %v)", k, g, v, got.form)
			}
		}
		if k := got.header.Get("Idempotency-Key"); k != req.IdempotencyKey {
			t.Errorf("Idempotency-Key = %q, want %q", k, req.IdempotencyKey)
		}
	})
}

// stripeAnswer serves one canned answer to every request and counts the requests.
func stripeAnswer(t *testing.T, status int, body string) (url string, keys func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_test")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

func stripeErrorBody(typ, code, extra string) string {
	return fmt.Sprintf(`{"error":{"type":%q,"code":%q,"message":"test message"%s}}`, typ, code, extra)
}

var testRequest = payment.Request{OrderID: "ord_1", Amount: 1000, Currency: "usd",
	PaymentMethod: "pm_card_visa", IdempotencyKey: "key-1"}

func TestStripeMapsAnswers(t *testing.T) {
	intent := func(status, extra string) string {
		return fmt.Sprintf(`{"id":"pi_123","object":"payment_intent","status":%q,"client_secret":"pi_123_secret_abc"%s}`, status, extra)
	}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   payment.Intent
	}{
		{"succeeded is Succeeded", 200, intent("succeeded", ""), payment.Intent{ID: "pi_123", Outcome: payment.Succeeded, ClientSecret: "pi_123_secret_abc"}},
		{"requires_action is RequiresAction", 200, intent("requires_action", ""), payment.Intent{ID: "pi_123", Outcome: payment.RequiresAction, ClientSecret: "pi_123_secret_abc"}},
		{"requires_confirmation is RequiresAction", 200, intent("requires_confirmation", ""), payment.Intent{ID: "pi_123", Outcome: payment.RequiresAction, ClientSecret: "pi_123_secret_abc"}},
		{"processing is Pending", 200, intent("processing", ""), payment.Intent{ID: "pi_123", Outcome: payment.Pending, ClientSecret: "pi_123_secret_abc"}},
		{"requires_payment_method without a card error is Pending", 200, intent("requires_payment_method", ""), payment.Intent{ID: "pi_123", Outcome: payment.Pending, ClientSecret: "pi_123_secret_abc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, _ := stripeAnswer(t, tc.status, tc.body)
			got, err := newStripe(t, base).CreatePayment(context.Background(), testRequest)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("intent = %+v, want %+v", got, tc.want)
			}
		})
	}

	t.Run("requires_payment_method after a card error is a decline of that intent", func(t *testing.T) {
		base, _ := stripeAnswer(t, 200, intent("requires_payment_method",
			`,"last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"declined"}`))
		_, err := newStripe(t, base).CreatePayment(context.Background(), testRequest)
		var d *payment.DeclinedError
		if !errors.As(err, &d) || d.IntentID != "pi_123" || d.DeclineCode != "generic_decline" {
			t.Fatalf("err = %v, want a *DeclinedError for pi_123 with generic_decline", err)
		}
	})

	t.Run("canceled is an error that is neither unavailable nor rejected", func(t *testing.T) {
		base, _ := stripeAnswer(t, 200, intent("canceled", ""))
		_, err := newStripe(t, base).CreatePayment(context.Background(), testRequest)
		if err == nil || errors.Is(err, payment.ErrUnavailable) || errors.Is(err, payment.ErrRejected) || errors.Is(err, payment.ErrDeclined) {
			t.Fatalf("err = %v, want an unexpected-status error", err)
		}
	})
}

func TestStripeMapsErrors(t *testing.T) {
	t.Run("a card_declined answer is a DeclinedError with codes and the intent id", func(t *testing.T) {
		base, _ := stripeAnswer(t, 402, stripeErrorBody("card_error", "card_declined",
			`,"decline_code":"insufficient_funds","payment_intent":{"id":"pi_declined","object":"payment_intent","status":"requires_payment_method"}`))
		_, err := newStripe(t, base).CreatePayment(context.Background(), testRequest)
		var d *payment.DeclinedError
		if !errors.As(err, &d) {
			t.Fatalf("err = %v, want a *DeclinedError", err)
		}
		if !errors.Is(err, payment.ErrDeclined) || errors.Is(err, payment.ErrUnavailable) {
			t.Errorf("errors.Is(ErrDeclined) = false or errors.Is(ErrUnavailable) = true for %v", err)
		}
		want := payment.DeclinedError{IntentID: "pi_declined", Code: "card_declined", DeclineCode: "insufficient_funds", Message: "test message"}
		if *d != want {
			t.Errorf("declined = %+v, want %+v", *d, want)
		}
	})

	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{"a 500 Stripe error", 500, stripeErrorBody("api_error", "", "")},
		{"a 503 that is not JSON", 503, "<html>Service Unavailable</html>"},
		{"a 429 rate limit", 429, stripeErrorBody("invalid_request_error", "rate_limit", "")},
		{"a 409 idempotency key in use", 409, stripeErrorBody("idempotency_error", "idempotency_key_in_use", "")},
	} {
		t.Run(tc.name+" is unavailable", func(t *testing.T) {
			base, keys := stripeAnswer(t, tc.status, tc.body)
			_, err := newStripe(t, base, payment.WithMaxNetworkRetries(0)).CreatePayment(context.Background(), testRequest)
			if !errors.Is(err, payment.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if n := len(keys()); n != 1 {
				t.Errorf("%d requests with retries disabled, want 1", n)
			}
		})
	}

	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   payment.RejectedError
	}{
		{"an invalid currency", 400, stripeErrorBody("invalid_request_error", "", `,"param":"currency"`),
			payment.RejectedError{StatusCode: 400, Type: "invalid_request_error", Param: "currency", Message: "test message", RequestID: "req_test"}},
		{"a key reused with other parameters", 400, stripeErrorBody("idempotency_error", "", ""),
			payment.RejectedError{StatusCode: 400, Type: "idempotency_error", Message: "test message", RequestID: "req_test"}},
		{"a bad API key", 401, stripeErrorBody("invalid_request_error", "", ""),
			payment.RejectedError{StatusCode: 401, Type: "invalid_request_error", Message: "test message", RequestID: "req_test"}},
	} {
		t.Run(tc.name+" is rejected", func(t *testing.T) {
			base, _ := stripeAnswer(t, tc.status, tc.body)
			_, err := newStripe(t, base).CreatePayment(context.Background(), testRequest)
			var r *payment.RejectedError
			if !errors.As(err, &r) || !errors.Is(err, payment.ErrRejected) {
				t.Fatalf("err = %v, want a *RejectedError", err)
			}
			if *r != tc.want {
				t.Errorf("rejected = %+v, want %+v", *r, tc.want)
			}
		})
	}
}

func TestStripeUnavailable(t *testing.T) {
	t.Run("an unreachable API is unavailable", func(t *testing.T) {
		port, err := testenv.FreePort() // free a moment ago: nothing listens there
		if err != nil {
			t.Fatal(err)
		}
		s := newStripe(t, fmt.Sprintf("http://127.0.0.1:%d", port), payment.WithMaxNetworkRetries(0))
		if _, err := s.CreatePayment(context.Background(), testRequest); !errors.Is(err, payment.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	})

	t.Run("a canceled context is unavailable and says so", func(t *testing.T) {
		base, keys := stripeAnswer(t, 200, `{}`)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newStripe(t, base).CreatePayment(ctx, testRequest)
		if !errors.Is(err, payment.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want ErrUnavailable and context.Canceled", err)
		}
		if n := len(keys()); n != 0 {
			t.Errorf("%d requests sent with a canceled context, want 0", n)
		}
	})

	t.Run("stripe-go retries a 503 from a proxy with the same idempotency key", func(t *testing.T) {
		base, keys := stripeAnswer(t, 503, "<html>Service Unavailable</html>")
		_, err := newStripe(t, base, payment.WithMaxNetworkRetries(1)).CreatePayment(context.Background(), testRequest)
		if !errors.Is(err, payment.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		got := keys()
		if len(got) != 2 || got[0] != testRequest.IdempotencyKey || got[1] != testRequest.IdempotencyKey {
			t.Fatalf("keys sent = %q, want %q twice", got, testRequest.IdempotencyKey)
		}
	})
}

func TestStripeRefusesAKeyLongerThanStripeAccepts(t *testing.T) {
	base, keys := stripeAnswer(t, 200, `{}`)
	req := testRequest
	req.IdempotencyKey = strings.Repeat("k", 256)
	_, err := newStripe(t, base).CreatePayment(context.Background(), req)
	if !errors.Is(err, payment.ErrRejected) {
		t.Fatalf("err = %v, want ErrRejected", err)
	}
	if n := len(keys()); n != 0 {
		t.Errorf("%d requests sent, want 0", n)
	}
}

func TestNewStripe(t *testing.T) {
	t.Run("an empty key is refused", func(t *testing.T) {
		if _, err := payment.NewStripe(" ", ""); err == nil {
			t.Fatal("NewStripe accepted an empty key")
		}
	})
	t.Run("a relative API base is refused", func(t *testing.T) {
		if _, err := payment.NewStripe(testKey, "localhost:12111"); err == nil {
			t.Fatal("NewStripe accepted an API base without a scheme")
		}
	})
	t.Run("printing the provider does not print the key", func(t *testing.T) {
		s := newStripe(t, "")
		for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s)} {
			if strings.Contains(out, testKey) {
				t.Fatalf("printed %q, which contains the key", out)
			}
		}
	})
}
