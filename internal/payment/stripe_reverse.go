package payment

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stripe/stripe-go/v84"
)

// Cancel implements Reverser: POST /v1/payment_intents/{id}/cancel with Idempotency-Key key
// (stripe-go makes one when key is empty). Stripe refuses to cancel an intent that succeeded or
// was already canceled (400 payment_intent_unexpected_state): Cancel then retrieves the intent
// and returns it, Succeeded or Canceled, without an error. Any other state it refuses in (a
// processing intent) stays that *RejectedError. Other errors are classified as CreatePayment's.
func (s *Stripe) Cancel(ctx context.Context, intentID, key string) (Intent, error) {
	if len(strings.TrimSpace(key)) > maxKeyLen {
		return Intent{}, keyTooLong()
	}
	params := &stripe.PaymentIntentCancelParams{}
	if key != "" {
		params.SetIdempotencyKey(key)
	}
	pi, err := s.client.V1PaymentIntents.Cancel(ctx, intentID, params)
	if err == nil {
		return lookedUp(pi), nil
	}
	err = stripeError(err)
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.Code != string(stripe.ErrorCodePaymentIntentUnexpectedState) {
		return Intent{}, err
	}
	in, rerr := s.Retrieve(ctx, intentID)
	if rerr != nil {
		return Intent{}, fmt.Errorf("payment: cancel %s: refused as %s, then retrieving it: %w", intentID, rej.Code, rerr)
	}
	if in.Outcome == Succeeded || in.Outcome == Canceled {
		return in, nil
	}
	return Intent{}, err
}

// Refund implements Reverser: POST /v1/refunds with payment_intent intentID, amount and
// Idempotency-Key key, so a retry with key returns the refund the first call made. Errors are
// classified as CreatePayment's (an intent that has not succeeded, or an amount above what is
// left to refund, is a *RejectedError).
func (s *Stripe) Refund(ctx context.Context, intentID string, amount int64, key string) (string, error) {
	if len(strings.TrimSpace(key)) > maxKeyLen {
		return "", keyTooLong()
	}
	params := &stripe.RefundCreateParams{PaymentIntent: stripe.String(intentID), Amount: stripe.Int64(amount)}
	if key != "" {
		params.SetIdempotencyKey(key)
	}
	r, err := s.client.V1Refunds.Create(ctx, params)
	if err != nil {
		return "", stripeError(err)
	}
	return r.ID, nil
}
