package payment

import "context"

// Reverser undoes payments: a separate interface so existing Providers keep compiling.
type Reverser interface {
	// Cancel cancels the PaymentIntent intentID so no charge can happen any more. It returns
	// the intent as it now stands: Outcome Canceled, or Succeeded when it was already charged
	// (then nothing was canceled: the caller must refund or keep the order paid). Canceling an
	// already canceled intent is not an error (returns Canceled). key is the idempotency key sent.
	Cancel(ctx context.Context, intentID, key string) (Intent, error)
	// Refund refunds amount (minor units) of the succeeded PaymentIntent intentID, once per key:
	// a retry with the same key returns the same refund. Returns the refund id.
	Refund(ctx context.Context, intentID string, amount int64, key string) (string, error)
}

var (
	_ Reverser = (*Stripe)(nil)
	_ Reverser = (*Local)(nil)
)
