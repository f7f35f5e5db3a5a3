package payment_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/checkout-idem/checkout/internal/payment"
)

// create makes a PaymentIntent on l with payment method pm, failing the test on an error.
func create(t *testing.T, l *payment.Local, key, pm string) payment.Intent {
	t.Helper()
	in, err := l.CreatePayment(context.Background(), localRequest(key, pm))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestLocalCancel(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		pm      string
		cancels int             // how many times Cancel is called
		want    payment.Outcome // what each Cancel and then Retrieve report
		counted int             // Cancels() after them
	}{
		{"canceling a pending intent makes it canceled", "", 1, payment.Canceled, 1},
		{"canceling an intent that requires action makes it canceled", "pm_card_authenticationRequired", 1, payment.Canceled, 1},
		{"canceling a succeeded intent returns it succeeded and cancels nothing", "pm_card_visa", 1, payment.Succeeded, 0},
		{"canceling twice is canceled both times and cancels once", "", 2, payment.Canceled, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := payment.NewLocal()
			in := create(t, l, "k", tc.pm)
			for i := range tc.cancels {
				got, err := l.Cancel(ctx, in.ID, "cancel-k")
				if err != nil || got.ID != in.ID || got.Outcome != tc.want || got.Amount != 1000 || got.OrderID != "ord_k" {
					t.Fatalf("Cancel #%d = %+v, %v, want %s", i+1, got, err, tc.want)
				}
			}
			if got, err := l.Retrieve(ctx, in.ID); err != nil || got.Outcome != tc.want {
				t.Fatalf("Retrieve after Cancel = %+v, %v, want %s", got, err, tc.want)
			}
			if got, err := l.FindByOrder(ctx, "ord_k"); err != nil || got == nil || got.Outcome != tc.want {
				t.Fatalf("FindByOrder after Cancel = %+v, %v, want %s", got, err, tc.want)
			}
			if n := l.Cancels(); n != tc.counted {
				t.Fatalf("Cancels() = %d, want %d", n, tc.counted)
			}
			// Stripe replays the response it stored for a key, not the intent's state now.
			if got, err := l.CreatePayment(ctx, localRequest("k", tc.pm)); err != nil || got != in || l.Created() != 1 {
				t.Fatalf("CreatePayment replay = %+v, %v (%d created), want the first answer %+v", got, err, l.Created(), in)
			}
		})
	}
	t.Run("canceling a declined intent makes it canceled, and the key still replays the decline", func(t *testing.T) {
		l := payment.NewLocal()
		_, err := l.CreatePayment(ctx, localRequest("k", "pm_card_chargeDeclined"))
		var d *payment.DeclinedError
		if !errors.As(err, &d) {
			t.Fatal(err)
		}
		if got, err := l.Cancel(ctx, d.IntentID, "cancel-k"); err != nil || got.Outcome != payment.Canceled {
			t.Fatalf("Cancel = %+v, %v, want Canceled", got, err)
		}
		if _, err := l.CreatePayment(ctx, localRequest("k", "pm_card_chargeDeclined")); !errors.Is(err, payment.ErrDeclined) {
			t.Fatalf("CreatePayment replay = %v, want the stored decline", err)
		}
	})
	t.Run("canceling an unknown intent is rejected as missing", func(t *testing.T) {
		var rej *payment.RejectedError
		if _, err := payment.NewLocal().Cancel(ctx, "pi_unknown", "k"); !errors.As(err, &rej) || rej.Code != "resource_missing" {
			t.Fatalf("Cancel = %v, want resource_missing", err)
		}
	})
	t.Run("a done context is unavailable and cancels nothing", func(t *testing.T) {
		l := payment.NewLocal()
		in := create(t, l, "k", "")
		done, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := l.Cancel(done, in.ID, "k"); !errors.Is(err, payment.ErrUnavailable) || l.Cancels() != 0 {
			t.Fatalf("Cancel = %v, %d canceled, want ErrUnavailable and none", err, l.Cancels())
		}
	})
}

func TestLocalRefund(t *testing.T) {
	ctx := context.Background()
	type refund struct {
		amount int64
		key    string
		err    string // "" for success, else the RejectedError's Type and Param ("invalid_request_error amount")
	}
	for _, tc := range []struct {
		name    string
		pm      string
		refunds []refund
		counted int // Refunds() after them
	}{
		{"refunding twice with the same key makes one refund", "pm_card_visa",
			[]refund{{400, "r1", ""}, {400, "r1", ""}}, 1},
		{"refunds with two keys add up to the intent's amount", "pm_card_visa",
			[]refund{{400, "r1", ""}, {600, "r2", ""}}, 2},
		{"refunding more than the amount is rejected", "pm_card_visa",
			[]refund{{1001, "r1", "invalid_request_error amount"}}, 0},
		{"refunding more than is left after an earlier refund is rejected", "pm_card_visa",
			[]refund{{600, "r1", ""}, {401, "r2", "invalid_request_error amount"}}, 1},
		{"refunding nothing is rejected", "pm_card_visa",
			[]refund{{0, "r1", "invalid_request_error amount"}}, 0},
		{"the same key with another amount is an idempotency error", "pm_card_visa",
			[]refund{{400, "r1", ""}, {500, "r1", "idempotency_error "}}, 1},
		{"refunding a pending intent is rejected", "",
			[]refund{{100, "r1", "invalid_request_error payment_intent"}}, 0},
		{"refunding an intent that requires action is rejected", "pm_card_authenticationRequired",
			[]refund{{100, "r1", "invalid_request_error payment_intent"}}, 0},
		{"a rejected refund is not stored: the key refunds once the request is valid", "pm_card_visa",
			[]refund{{2000, "r1", "invalid_request_error amount"}, {1000, "r1", ""}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := payment.NewLocal()
			in := create(t, l, "k", tc.pm)
			ids := map[string]string{} // refund id by key
			for i, r := range tc.refunds {
				id, err := l.Refund(ctx, in.ID, r.amount, r.key)
				if r.err != "" {
					var rej *payment.RejectedError
					if !errors.As(err, &rej) || rej.Type+" "+rej.Param != r.err {
						t.Fatalf("Refund #%d (%d, %q) = %q, %v, want a RejectedError %s", i+1, r.amount, r.key, id, err, r.err)
					}
					continue
				}
				if err != nil || !strings.HasPrefix(id, "re_") {
					t.Fatalf("Refund #%d (%d, %q) = %q, %v, want a re_ id", i+1, r.amount, r.key, id, err)
				}
				if first, ok := ids[r.key]; ok && first != id {
					t.Fatalf("Refund #%d with key %q = %q, want the first refund %q", i+1, r.key, id, first)
				}
				ids[r.key] = id
			}
			if n := l.Refunds(); n != tc.counted {
				t.Fatalf("Refunds() = %d, want %d", n, tc.counted)
			}
		})
	}
	t.Run("refunding a canceled intent is rejected", func(t *testing.T) {
		l := payment.NewLocal()
		in := create(t, l, "k", "")
		if _, err := l.Cancel(ctx, in.ID, "c"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Refund(ctx, in.ID, 100, "r1"); !errors.Is(err, payment.ErrRejected) || l.Refunds() != 0 {
			t.Fatalf("Refund = %v, %d refunds, want ErrRejected and none", err, l.Refunds())
		}
	})
	t.Run("refunding an unknown intent is rejected as missing", func(t *testing.T) {
		var rej *payment.RejectedError
		if _, err := payment.NewLocal().Refund(ctx, "pi_unknown", 100, "r1"); !errors.As(err, &rej) || rej.Code != "resource_missing" {
			t.Fatalf("Refund = %v, want resource_missing", err)
		}
	})
	t.Run("a refund with a succeeded intent stays succeeded", func(t *testing.T) {
		l := payment.NewLocal()
		in := create(t, l, "k", "pm_card_visa")
		if _, err := l.Refund(ctx, in.ID, 1000, "r1"); err != nil {
			t.Fatal(err)
		}
		if got, err := l.Retrieve(ctx, in.ID); err != nil || got.Outcome != payment.Succeeded {
			t.Fatalf("Retrieve = %+v, %v, want Succeeded (Stripe keeps a refunded intent succeeded)", got, err)
		}
	})
	t.Run("20 concurrent refunds with one key make one refund", func(t *testing.T) {
		l := payment.NewLocal()
		in := create(t, l, "k", "pm_card_visa")
		const n = 20
		ids := make([]string, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ids[i], errs[i] = l.Refund(ctx, in.ID, 700, "refund-once")
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("refund %d = %q, %v, want %q like the first", i, ids[i], errs[i], ids[0])
			}
		}
		if got := l.Refunds(); got != 1 {
			t.Fatalf("Refunds() = %d, want 1", got)
		}
	})
}

func TestLocalAuthenticate(t *testing.T) {
	ctx := context.Background()
	t.Run("the buyer finishing 3-D Secure makes the intent succeeded, and a cancel then leaves it so", func(t *testing.T) {
		l := payment.NewLocal()
		in := create(t, l, "k", "pm_card_authenticationRequired")
		if got, ok := l.Authenticate(in.ID); !ok || got.Outcome != payment.Succeeded {
			t.Fatalf("Authenticate = %+v, %v, want succeeded", got, ok)
		}
		if got, err := l.Cancel(ctx, in.ID, "cancel-k"); err != nil || got.Outcome != payment.Succeeded || l.Cancels() != 0 {
			t.Fatalf("Cancel after Authenticate = %+v, %v (%d canceled), want it succeeded", got, err, l.Cancels())
		}
		if got, err := l.Retrieve(ctx, in.ID); err != nil || got.Outcome != payment.Succeeded {
			t.Fatalf("Retrieve = %+v, %v, want succeeded", got, err)
		}
	})
	for _, tc := range []struct {
		name, pm string
		cancel   bool // canceled before the buyer tries
	}{
		{"a canceled intent refuses it", "pm_card_authenticationRequired", true},
		{"a succeeded intent is left as it is", "pm_card_visa", false},
		{"a pending intent is left as it is", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := payment.NewLocal()
			in := create(t, l, "k", tc.pm)
			if tc.cancel {
				if _, err := l.Cancel(ctx, in.ID, "cancel-k"); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := l.Retrieve(ctx, in.ID)
			if got, ok := l.Authenticate(in.ID); ok || got.Outcome != before.Outcome {
				t.Fatalf("Authenticate = %+v, %v, want %s unchanged", got, ok, before.Outcome)
			}
		})
	}
}
