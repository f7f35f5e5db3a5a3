package payment_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// stripe-mock answers fixtures: what it proves is that each call reaches its endpoint with the
// idempotency key, passes stripe-mock's validation against the OpenAPI spec, and decodes.
func TestStripeReversesAgainstStripeMock(t *testing.T) {
	base := testenv.StripeMock(t)
	ctx := context.Background()
	in, err := newStripe(t, base).CreatePayment(ctx, payment.Request{OrderID: "ord_r", Amount: 1999, Currency: "eur", IdempotencyKey: "key-reverse-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a cancel posts to the intent's cancel endpoint with the key", func(t *testing.T) {
		rec := &recorder{}
		got, err := newStripe(t, base, payment.WithHTTPClient(&http.Client{Transport: rec})).Cancel(ctx, in.ID, "key-cancel-1")
		if err != nil || !strings.HasPrefix(got.ID, "pi_") || got.Outcome == "" {
			t.Fatalf("Cancel = %+v, %v", got, err)
		}
		reqs := rec.all()
		if len(reqs) != 1 || reqs[0].method != http.MethodPost || reqs[0].path != "/v1/payment_intents/"+in.ID+"/cancel" {
			t.Fatalf("requests %+v, want one POST /v1/payment_intents/%s/cancel", reqs, in.ID)
		}
		if k := reqs[0].header.Get("Idempotency-Key"); k != "key-cancel-1" {
			t.Errorf("Idempotency-Key = %q, want key-cancel-1", k)
		}
	})
	t.Run("a refund posts the intent and amount to the refunds endpoint with the key", func(t *testing.T) {
		rec := &recorder{}
		id, err := newStripe(t, base, payment.WithHTTPClient(&http.Client{Transport: rec})).Refund(ctx, in.ID, 500, "key-refund-1")
		if err != nil || !strings.HasPrefix(id, "re_") {
			t.Fatalf("Refund = %q, %v, want a re_ id", id, err)
		}
		reqs := rec.all()
		if len(reqs) != 1 || reqs[0].method != http.MethodPost || reqs[0].path != "/v1/refunds" {
			t.Fatalf("requests %+v, want one POST /v1/refunds", reqs)
		}
		r := reqs[0]
		if k := r.header.Get("Idempotency-Key"); k != "key-refund-1" {
			t.Errorf("Idempotency-Key = %q, want key-refund-1", k)
		}
		if r.form.Get("payment_intent") != in.ID || r.form.Get("amount") != "500" {
			t.Errorf("form %v, want payment_intent=%s amount=500", r.form, in.ID)
		}
	})
}

func TestStripeCancelMapsAnswers(t *testing.T) {
	const cancelPath, retrievePath = "/v1/payment_intents/pi_1/cancel", "/v1/payment_intents/pi_1"
	unexpected := "400 " + stripeErrorBody("invalid_request_error", "payment_intent_unexpected_state", "")
	for _, tc := range []struct {
		name     string
		routes   map[string]string
		want     payment.Outcome // when the call succeeds
		wantErr  error           // else what the error matches
		requests int
	}{
		{"a canceled answer is Canceled", map[string]string{cancelPath: pi("pi_1", "canceled", "")}, payment.Canceled, nil, 1},
		{"a refusal of a succeeded intent retrieves it and returns it Succeeded",
			map[string]string{cancelPath: unexpected, retrievePath: pi("pi_1", "succeeded", "")}, payment.Succeeded, nil, 2},
		{"a refusal of an already canceled intent returns it Canceled",
			map[string]string{cancelPath: unexpected, retrievePath: pi("pi_1", "canceled", "")}, payment.Canceled, nil, 2},
		{"a refusal of a processing intent stays rejected",
			map[string]string{cancelPath: unexpected, retrievePath: pi("pi_1", "processing", "")}, "", payment.ErrRejected, 2},
		{"a refusal whose retrieve fails is unavailable",
			map[string]string{cancelPath: unexpected, retrievePath: "500 " + stripeErrorBody("api_error", "", "")}, "", payment.ErrUnavailable, 2},
		{"an unknown intent is rejected", map[string]string{}, "", payment.ErrRejected, 1},
		{"a 500 is unavailable", map[string]string{cancelPath: "500 " + stripeErrorBody("api_error", "", "")}, "", payment.ErrUnavailable, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, seen := stripeRoutes(t, tc.routes, nil)
			got, err := newStripe(t, base, payment.WithMaxNetworkRetries(0)).Cancel(context.Background(), "pi_1", "key-c")
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Cancel = %+v, %v, want an error matching %v", got, err, tc.wantErr)
				}
			} else if err != nil || got.ID != "pi_1" || got.Outcome != tc.want {
				t.Fatalf("Cancel = %+v, %v, want pi_1 %s", got, err, tc.want)
			}
			if n := len(seen()); n != tc.requests {
				t.Fatalf("%d requests %q, want %d", n, seen(), tc.requests)
			}
		})
	}
}

func TestStripeRefundMapsAnswers(t *testing.T) {
	const refunds = "/v1/refunds"
	for _, tc := range []struct {
		name    string
		answer  string
		wantErr error
	}{
		{"a refund returns its id", `{"id":"re_1","object":"refund","amount":500,"status":"succeeded"}`, nil},
		{"an amount above what is left is rejected", "400 " + stripeErrorBody("invalid_request_error", "", `,"param":"amount"`), payment.ErrRejected},
		{"an idempotency key reused with another amount is rejected", "400 " + stripeErrorBody("idempotency_error", "", ""), payment.ErrRejected},
		{"a 500 is unavailable", "500 " + stripeErrorBody("api_error", "", ""), payment.ErrUnavailable},
		{"a 429 is unavailable", "429 " + stripeErrorBody("invalid_request_error", "rate_limit", ""), payment.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, _ := stripeRoutes(t, map[string]string{refunds: tc.answer}, nil)
			id, err := newStripe(t, base, payment.WithMaxNetworkRetries(0)).Refund(context.Background(), "pi_1", 500, "key-r")
			if tc.wantErr == nil && (err != nil || id != "re_1") {
				t.Fatalf("Refund = %q, %v, want re_1", id, err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Refund = %q, %v, want an error matching %v", id, err, tc.wantErr)
			}
		})
	}
	t.Run("a key longer than Stripe's limit is rejected before any request", func(t *testing.T) {
		base, seen := stripeRoutes(t, nil, nil)
		long := strings.Repeat("k", 256)
		s := newStripe(t, base)
		if _, err := s.Refund(context.Background(), "pi_1", 500, long); !errors.Is(err, payment.ErrRejected) {
			t.Fatalf("Refund = %v, want ErrRejected", err)
		}
		if _, err := s.Cancel(context.Background(), "pi_1", long); !errors.Is(err, payment.ErrRejected) {
			t.Fatalf("Cancel = %v, want ErrRejected", err)
		}
		if n := len(seen()); n != 0 {
			t.Fatalf("%d requests, want none", n)
		}
	})
}
