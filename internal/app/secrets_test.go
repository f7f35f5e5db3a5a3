package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/payment"
)

// fakeSecrets is a secrets.Fetcher whose value the test rotates.
type fakeSecrets struct {
	mu    sync.Mutex
	value string
	reads int
}

func (f *fakeSecrets) GetSecretValue(context.Context, string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.value, nil
}

func (f *fakeSecrets) set(v string) { f.mu.Lock(); f.value = v; f.mu.Unlock() }

// A Stripe key rolled in Stripe and rotated in Secrets Manager: the first call with the old
// key gets 401, the key is read again and the call retried once, with the same idempotency key.
func TestStripeKeyIsRereadWhenStripeRefusesIt(t *testing.T) {
	var calls atomic.Int32
	keys := make(chan string, 4)
	stripe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		keys <- r.Header.Get("Idempotency-Key")
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer sk_test_new123" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"id":"pi_rotated","object":"payment_intent","status":"succeeded","amount":1999,"currency":"eur","client_secret":"pi_rotated_secret_x"}`)
	}))
	defer stripe.Close()
	sm := &fakeSecrets{value: "sk_test_old123"}
	cfg := config.Config{StripeSecretKeyARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:k", StripeAPIBase: stripe.URL}
	p, _, err := LambdaPayments(t.Context(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), sm)
	if err != nil {
		t.Fatal(err)
	}
	sm.set("sk_test_new123")
	in, err := p.CreatePayment(t.Context(), payment.Request{OrderID: "ord_1", Amount: 1999, Currency: "eur",
		PaymentMethod: "pm_card_visa", IdempotencyKey: "key-1"})
	if err != nil || in.ID != "pi_rotated" {
		t.Fatalf("CreatePayment = %+v, %v; want the intent made with the rotated key", in, err)
	}
	if calls.Load() != 2 || sm.reads != 2 {
		t.Errorf("Stripe calls %d, secret reads %d; want 2 and 2", calls.Load(), sm.reads)
	}
	if a, b := <-keys, <-keys; a != "key-1" || b != "key-1" {
		t.Errorf("idempotency keys %q, %q; want the same key on the retry", a, b)
	}
}

// Cancel and Refund go through the Secrets Manager key as CreatePayment does: after a 401 the
// key is read again and the call retried once, with the same idempotency key.
func TestStripeFromSecretCancelsAndRefundsWithTheRotatedKey(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		call       func(payment.Reverser) (string, error)
		want       string
	}{
		{"a cancel", "/v1/payment_intents/pi_1/cancel", func(r payment.Reverser) (string, error) {
			in, err := r.Cancel(t.Context(), "pi_1", "cancel-1")
			return string(in.Outcome), err
		}, string(payment.Canceled)},
		{"a refund", "/v1/refunds", func(r payment.Reverser) (string, error) {
			return r.Refund(t.Context(), "pi_1", 500, "cancel-1")
		}, "re_1"},
	} {
		t.Run(tc.name+" is retried once with the same key after the key rolled", func(t *testing.T) {
			var calls atomic.Int32
			keys := make(chan string, 4)
			paths := make(chan string, 4)
			stripe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				keys <- r.Header.Get("Idempotency-Key")
				paths <- r.URL.Path
				w.Header().Set("Content-Type", "application/json")
				if r.Header.Get("Authorization") != "Bearer sk_test_new123" {
					w.WriteHeader(http.StatusUnauthorized)
					_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}}`)
					return
				}
				if r.URL.Path == "/v1/refunds" {
					_, _ = io.WriteString(w, `{"id":"re_1","object":"refund","amount":500,"status":"succeeded"}`)
					return
				}
				_, _ = io.WriteString(w, `{"id":"pi_1","object":"payment_intent","status":"canceled","amount":1999,"currency":"eur"}`)
			}))
			defer stripe.Close()
			sm := &fakeSecrets{value: "sk_test_old123"}
			cfg := config.Config{StripeSecretKeyARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:k", StripeAPIBase: stripe.URL}
			p, _, err := LambdaPayments(t.Context(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), sm)
			if err != nil {
				t.Fatal(err)
			}
			r, ok := p.(payment.Reverser)
			if !ok {
				t.Fatalf("%T is not a payment.Reverser", p)
			}
			sm.set("sk_test_new123")
			if got, err := tc.call(r); err != nil || got != tc.want {
				t.Fatalf("= %q, %v; want %q", got, err, tc.want)
			}
			if calls.Load() != 2 || sm.reads != 2 {
				t.Errorf("Stripe calls %d, secret reads %d; want 2 and 2", calls.Load(), sm.reads)
			}
			if a, b := <-keys, <-keys; a != "cancel-1" || b != "cancel-1" {
				t.Errorf("idempotency keys %q, %q; want the same key on the retry", a, b)
			}
			if a, b := <-paths, <-paths; a != tc.path || b != tc.path {
				t.Errorf("paths %q, %q; want %s", a, b, tc.path)
			}
		})
	}
}
