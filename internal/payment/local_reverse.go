package payment

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// localRefund is a refund Local made: its request, for the fingerprint a replay must match.
type localRefund struct {
	id       string
	intentID string
	amount   int64
}

// Cancel implements Reverser as Stripe does: a Pending, RequiresAction or Failed (declined)
// intent becomes Canceled, and Retrieve and FindByOrder report it so; a Succeeded or Canceled
// one is returned unchanged. A later CreatePayment with the intent's key replays the first
// answer, as Stripe replays the response it stored, not the intent's state. key is only
// checked for length: canceling is idempotent by itself. An unknown id is a *RejectedError
// resource_missing.
func (l *Local) Cancel(ctx context.Context, intentID, key string) (Intent, error) {
	if len(strings.TrimSpace(key)) > maxKeyLen {
		return Intent{}, keyTooLong()
	}
	if err := ctx.Err(); err != nil {
		return Intent{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r, err := l.find(intentID)
	if err != nil {
		return Intent{}, err
	}
	if in := r.lookedUp(); in.Outcome == Succeeded || in.Outcome == Canceled {
		return in, nil
	}
	r.canceled = true
	l.hooks.canceled()
	return r.lookedUp(), nil
}

// Refund implements Reverser: it refunds amount of a Succeeded intent, up to the intent's
// amount minus what was refunded before, and stores the refund under key. The same key with
// the same intent and amount returns the stored refund id and refunds nothing more; with
// another intent or amount it is a *RejectedError idempotency_error, as Stripe answers. An
// empty key is not stored: each such call refunds again. An unknown intent, one that has not
// succeeded, an amount below 1 or above what is left are *RejectedErrors, not stored under key.
func (l *Local) Refund(ctx context.Context, intentID string, amount int64, key string) (string, error) {
	if len(strings.TrimSpace(key)) > maxKeyLen {
		return "", keyTooLong()
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if rf, ok := l.refunds[key]; ok {
		if rf.intentID != intentID || rf.amount != amount {
			return "", &RejectedError{StatusCode: http.StatusBadRequest, Type: "idempotency_error",
				Message: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters "+
					"they were first used with. Try using a key other than '%s' if you meant to execute a "+
					"different request.", key)}
		}
		return rf.id, nil
	}
	r, err := l.find(intentID)
	if err != nil {
		return "", err
	}
	if out := r.lookedUp().Outcome; out != Succeeded {
		return "", &RejectedError{StatusCode: http.StatusBadRequest, Type: "invalid_request_error",
			Param: "payment_intent", Message: fmt.Sprintf("PaymentIntent %s has status %s: it has no successful charge to refund.", intentID, out)}
	}
	if amount < 1 {
		return "", &RejectedError{StatusCode: http.StatusBadRequest, Type: "invalid_request_error",
			Code: "parameter_invalid_integer", Param: "amount", Message: "This value must be greater than or equal to 1."}
	}
	if left := r.req.Amount - r.refunded; amount > left {
		return "", &RejectedError{StatusCode: http.StatusBadRequest, Type: "invalid_request_error", Param: "amount",
			Message: fmt.Sprintf("Refund amount (%d) is greater than unrefunded amount on charge (%d)", amount, left)}
	}
	r.refunded += amount
	l.hooks.refunded()
	rf := &localRefund{id: "re_" + randomText(24), intentID: intentID, amount: amount}
	if key != "" {
		if l.refunds == nil {
			l.refunds = make(map[string]*localRefund)
		}
		l.refunds[key] = rf
	}
	return rf.id, nil
}
