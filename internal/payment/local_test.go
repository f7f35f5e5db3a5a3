package payment_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/payment"
)

func localRequest(key, pm string) payment.Request {
	return payment.Request{OrderID: "ord_" + key, Amount: 1000, Currency: "eur", PaymentMethod: pm, IdempotencyKey: key}
}

func TestLocalTestPaymentMethods(t *testing.T) {
	for _, tc := range []struct {
		pm          string
		outcome     payment.Outcome
		code        string // for declines
		declineCode string
	}{
		{"", payment.Pending, "", ""},
		{"pm_card_visa", payment.Succeeded, "", ""},
		{"pm_card_mastercard", payment.Succeeded, "", ""},
		{"pm_card_amex", payment.Succeeded, "", ""},
		{"pm_card_authenticationRequired", payment.RequiresAction, "", ""},
		{"pm_card_threeDSecure2Required", payment.RequiresAction, "", ""},
		{"pm_card_chargeDeclined", "", "card_declined", "generic_decline"},
		{"pm_card_visa_chargeDeclined", "", "card_declined", "generic_decline"},
		{"pm_card_chargeDeclinedInsufficientFunds", "", "card_declined", "insufficient_funds"},
		{"pm_card_visa_chargeDeclinedInsufficientFunds", "", "card_declined", "insufficient_funds"},
		{"pm_card_visa_chargeDeclinedLostCard", "", "card_declined", "lost_card"},
		{"pm_card_chargeDeclinedExpiredCard", "", "expired_card", "expired_card"},
		{"pm_card_chargeDeclinedIncorrectCvc", "", "incorrect_cvc", "incorrect_cvc"},
	} {
		name := tc.pm
		if name == "" {
			name = "no payment method"
		}
		t.Run(name, func(t *testing.T) {
			l := payment.NewLocal()
			in, err := l.CreatePayment(context.Background(), localRequest("k", tc.pm))
			if tc.code != "" {
				var d *payment.DeclinedError
				if !errors.As(err, &d) || !errors.Is(err, payment.ErrDeclined) {
					t.Fatalf("err = %v, want a *DeclinedError", err)
				}
				if d.Code != tc.code || d.DeclineCode != tc.declineCode || !strings.HasPrefix(d.IntentID, "pi_") || d.Message == "" {
					t.Fatalf("declined = %+v, want code %s, decline code %s, a pi_ intent id, a message", *d, tc.code, tc.declineCode)
				}
				if l.Created() != 1 {
					t.Errorf("Created() = %d, want 1: a decline still creates a PaymentIntent", l.Created())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if in.Outcome != tc.outcome {
				t.Errorf("outcome = %s, want %s", in.Outcome, tc.outcome)
			}
			if !strings.HasPrefix(in.ID, "pi_") || !strings.HasPrefix(in.ClientSecret, in.ID+"_secret_") {
				t.Errorf("intent = %+v, want pi_ id and <id>_secret_ client secret", in)
			}
		})
	}
}

func TestLocalRejectsInvalidRequestsWithoutStoringThem(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*payment.Request)
		param string
	}{
		{"an amount of zero", func(r *payment.Request) { r.Amount = 0 }, "amount"},
		{"an uppercase currency", func(r *payment.Request) { r.Currency = "EUR" }, "currency"},
		{"an unknown payment method", func(r *payment.Request) { r.PaymentMethod = "pm_123" }, "payment_method"},
		{"a key longer than 255 characters", func(r *payment.Request) { r.IdempotencyKey = strings.Repeat("k", 256) }, "Idempotency-Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := payment.NewLocal()
			req := localRequest("k", "pm_card_visa")
			tc.edit(&req)
			_, err := l.CreatePayment(context.Background(), req)
			var r *payment.RejectedError
			if !errors.As(err, &r) || !errors.Is(err, payment.ErrRejected) || r.Param != tc.param || r.StatusCode != 400 {
				t.Fatalf("err = %v, want a 400 *RejectedError for %s", err, tc.param)
			}
			if l.Created() != 0 {
				t.Errorf("Created() = %d, want 0", l.Created())
			}
			if tc.param == "Idempotency-Key" {
				return
			}
			// Not stored: the same key with a valid request goes through.
			if _, err := l.CreatePayment(context.Background(), localRequest("k", "pm_card_visa")); err != nil {
				t.Fatalf("valid request with the key of a rejected one: %v", err)
			}
		})
	}
}

func TestLocalIdempotency(t *testing.T) {
	ctx := context.Background()

	t.Run("the same key and request return the same intent and create one", func(t *testing.T) {
		l := payment.NewLocal()
		first, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa"))
		if err != nil {
			t.Fatal(err)
		}
		second, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa"))
		if err != nil {
			t.Fatal(err)
		}
		if first != second {
			t.Fatalf("replay = %+v, want %+v", second, first)
		}
		if l.Created() != 1 || l.Calls() != 2 {
			t.Fatalf("Created() = %d, Calls() = %d, want 1 and 2", l.Created(), l.Calls())
		}
	})

	t.Run("the same key with another amount is an idempotency error", func(t *testing.T) {
		l := payment.NewLocal()
		if _, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa")); err != nil {
			t.Fatal(err)
		}
		other := localRequest("k", "pm_card_visa")
		other.Amount++
		_, err := l.CreatePayment(ctx, other)
		var r *payment.RejectedError
		if !errors.As(err, &r) || r.Type != "idempotency_error" || r.StatusCode != 400 {
			t.Fatalf("err = %v, want a 400 idempotency_error", err)
		}
		if l.Created() != 1 {
			t.Fatalf("Created() = %d, want 1", l.Created())
		}
	})

	t.Run("a decline is stored and replayed for its key", func(t *testing.T) {
		l := payment.NewLocal()
		_, err1 := l.CreatePayment(ctx, localRequest("k", "pm_card_chargeDeclined"))
		_, err2 := l.CreatePayment(ctx, localRequest("k", "pm_card_chargeDeclined"))
		var d1, d2 *payment.DeclinedError
		if !errors.As(err1, &d1) || !errors.As(err2, &d2) || *d1 != *d2 {
			t.Fatalf("errors = %v, %v, want the same decline twice", err1, err2)
		}
		if l.Created() != 1 {
			t.Fatalf("Created() = %d, want 1", l.Created())
		}
	})

	t.Run("calls without a key each create an intent", func(t *testing.T) {
		l := payment.NewLocal()
		a, _ := l.CreatePayment(ctx, localRequest("", "pm_card_visa"))
		b, _ := l.CreatePayment(ctx, localRequest("", "pm_card_visa"))
		if a.ID == b.ID || l.Created() != 2 {
			t.Fatalf("ids %s and %s, Created() = %d, want two distinct intents", a.ID, b.ID, l.Created())
		}
	})

	t.Run("32 concurrent calls with one key create one intent", func(t *testing.T) {
		l := payment.NewLocal()
		release := make(chan struct{})
		// Every call is held until all 32 have arrived, so they race for the key together.
		var arrived sync.WaitGroup
		arrived.Add(32)
		l.SetFault(func(payment.Request, int) payment.Fault {
			arrived.Done()
			return payment.Fault{Release: release}
		})
		go func() { arrived.Wait(); close(release) }()
		ids := make([]string, 32)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				in, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa"))
				if err != nil {
					t.Error(err)
				}
				ids[i] = in.ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("ids differ: %q", ids)
			}
		}
		if l.Created() != 1 || l.Calls() != 32 {
			t.Fatalf("Created() = %d, Calls() = %d, want 1 and 32", l.Created(), l.Calls())
		}
	})
}

func TestLocalFaults(t *testing.T) {
	ctx := context.Background()

	t.Run("an answer lost after the charge is recovered by a retry with the same key", func(t *testing.T) {
		l := payment.NewLocal()
		l.SetFault(func(_ payment.Request, attempt int) payment.Fault {
			return payment.Fault{LoseResponse: attempt == 1}
		})
		_, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa"))
		if !errors.Is(err, payment.ErrUnavailable) {
			t.Fatalf("first attempt: err = %v, want ErrUnavailable", err)
		}
		if l.Created() != 1 {
			t.Fatalf("Created() = %d after the lost answer, want 1: the charge happened", l.Created())
		}
		in, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa"))
		if err != nil || in.Outcome != payment.Succeeded {
			t.Fatalf("retry = %+v, %v, want Succeeded", in, err)
		}
		if l.Created() != 1 {
			t.Fatalf("Created() = %d after the retry, want 1", l.Created())
		}
	})

	t.Run("an unavailable provider creates nothing, and the retry creates the intent", func(t *testing.T) {
		l := payment.NewLocal()
		l.SetFault(func(_ payment.Request, attempt int) payment.Fault {
			return payment.Fault{Unavailable: attempt == 1}
		})
		if _, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa")); !errors.Is(err, payment.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		if l.Created() != 0 {
			t.Fatalf("Created() = %d, want 0", l.Created())
		}
		if _, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa")); err != nil {
			t.Fatal(err)
		}
		if l.Created() != 1 || l.Calls() != 2 {
			t.Fatalf("Created() = %d, Calls() = %d, want 1 and 2", l.Created(), l.Calls())
		}
	})

	t.Run("an injected decline overrides the payment method and is replayed", func(t *testing.T) {
		l := payment.NewLocal()
		l.SetFault(func(_ payment.Request, attempt int) payment.Fault {
			if attempt == 1 {
				return payment.Fault{Decline: "insufficient_funds"}
			}
			return payment.Fault{}
		})
		for range 2 {
			_, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa"))
			var d *payment.DeclinedError
			if !errors.As(err, &d) || d.DeclineCode != "insufficient_funds" {
				t.Fatalf("err = %v, want an insufficient_funds decline", err)
			}
		}
	})

	t.Run("a held call ends when its context is canceled, and creates nothing", func(t *testing.T) {
		l := payment.NewLocal()
		held := make(chan struct{})
		l.SetFault(func(payment.Request, int) payment.Fault {
			close(held)
			return payment.Fault{Release: make(chan struct{})} // never released
		})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-held; cancel() }()
		_, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa"))
		if !errors.Is(err, payment.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want ErrUnavailable and context.Canceled", err)
		}
		if l.Created() != 0 {
			t.Fatalf("Created() = %d, want 0", l.Created())
		}
	})

	t.Run("a delay ends when its context is canceled", func(t *testing.T) {
		l := payment.NewLocal()
		l.SetFault(func(payment.Request, int) payment.Fault { return payment.Fault{Delay: 24 * time.Hour} })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa")); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})

	t.Run("a short delay passes and the call succeeds", func(t *testing.T) {
		l := payment.NewLocal()
		l.SetFault(func(payment.Request, int) payment.Fault { return payment.Fault{Delay: time.Nanosecond} })
		if _, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a call held after the charge fails on cancel but the retry gets the charge", func(t *testing.T) {
		l := payment.NewLocal()
		held := make(chan struct{})
		l.SetFault(func(_ payment.Request, attempt int) payment.Fault {
			if attempt > 1 {
				return payment.Fault{}
			}
			close(held)
			return payment.Fault{Release: make(chan struct{}), AfterCharge: true}
		})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-held; cancel() }()
		if _, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa")); !errors.Is(err, payment.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		in, err := l.CreatePayment(context.Background(), localRequest("k", "pm_card_visa"))
		if err != nil || in.Outcome != payment.Succeeded || l.Created() != 1 {
			t.Fatalf("retry = %+v, %v, Created() = %d, want the one Succeeded intent", in, err, l.Created())
		}
	})

	t.Run("a released call proceeds", func(t *testing.T) {
		l := payment.NewLocal()
		release := make(chan struct{})
		l.SetFault(func(payment.Request, int) payment.Fault { return payment.Fault{Release: release} })
		done := make(chan error)
		go func() {
			_, err := l.CreatePayment(ctx, localRequest("k", "pm_card_visa"))
			done <- err
		}()
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
