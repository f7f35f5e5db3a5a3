package payment

import (
	"context"
	"fmt"
	"net/http"
)

// Retrieve implements Provider over the PaymentIntents Local created: a declined one is Failed;
// an unknown id is a *RejectedError resource_missing, as Stripe answers.
func (l *Local) Retrieve(ctx context.Context, intentID string) (Intent, error) {
	if err := ctx.Err(); err != nil {
		return Intent{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r, err := l.find(intentID)
	if err != nil {
		return Intent{}, err
	}
	return r.lookedUp(), nil
}

// find returns the PaymentIntent intentID, or Stripe's *RejectedError resource_missing; Local.mu
// is held.
func (l *Local) find(intentID string) (*localResult, error) {
	for _, r := range l.all {
		if r.id() == intentID {
			return r, nil
		}
	}
	return nil, &RejectedError{StatusCode: http.StatusNotFound, Type: "invalid_request_error",
		Code: "resource_missing", Param: "intent", Message: "No such payment_intent: '" + intentID + "'"}
}

// id is the PaymentIntent's id, declined or not.
func (r *localResult) id() string {
	if r.declined != nil {
		return r.declined.IntentID
	}
	return r.intent.ID
}

// FindByOrder implements Provider: the PaymentIntent Local created with OrderID orderID that
// succeeded, else the newest, else nil.
func (l *Local) FindByOrder(ctx context.Context, orderID string) (*Intent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var found []Intent // newest first, as Stripe's search answers
	for i := len(l.all) - 1; i >= 0; i-- {
		if r := l.all[i]; r.req.OrderID == orderID {
			found = append(found, r.lookedUp())
		}
	}
	return pick(found), nil
}

// lookedUp is the stored PaymentIntent as Retrieve reports it.
func (r *localResult) lookedUp() Intent {
	in := r.intent
	if r.declined != nil {
		in = Intent{ID: r.declined.IntentID, Outcome: Failed}
	}
	if r.authenticated && in.Outcome == RequiresAction {
		in.Outcome = Succeeded
	}
	if r.canceled {
		in.Outcome = Canceled
	}
	in.Amount, in.Currency, in.OrderID = r.req.Amount, r.req.Currency, r.req.OrderID
	return in
}
