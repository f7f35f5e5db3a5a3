package payment

import (
	"context"
	"fmt"
	"strings"

	"github.com/stripe/stripe-go/v84"
)

// Retrieve implements Provider: GET /v1/payment_intents/{id}. Errors are classified as
// CreatePayment's (an unknown id is a *RejectedError with Code resource_missing).
func (s *Stripe) Retrieve(ctx context.Context, intentID string) (Intent, error) {
	pi, err := s.client.V1PaymentIntents.Retrieve(ctx, intentID, nil)
	if err != nil {
		return Intent{}, stripeError(err)
	}
	return lookedUp(pi), nil
}

// FindByOrder implements Provider with the PaymentIntents search API, query
// metadata['order_id']:'<orderID>' (eventually consistent: Stripe indexes within about a
// minute).
func (s *Stripe) FindByOrder(ctx context.Context, orderID string) (*Intent, error) {
	if strings.ContainsAny(orderID, `'\`) {
		return nil, fmt.Errorf("payment: find by order: order id %q cannot be quoted in a search", orderID)
	}
	params := &stripe.PaymentIntentSearchParams{}
	params.Query = fmt.Sprintf("metadata['order_id']:'%s'", orderID)
	params.Limit = stripe.Int64(10)
	var found []Intent
	for pi, err := range s.client.V1PaymentIntents.Search(ctx, params) {
		if err != nil {
			return nil, stripeError(err)
		}
		found = append(found, lookedUp(pi))
		if len(found) >= 10 {
			break
		}
	}
	return pick(found), nil
}

// pick returns the intent FindByOrder reports among found (newest first): the one that
// succeeded, else the newest; nil when found is empty.
func pick(found []Intent) *Intent {
	if len(found) == 0 {
		return nil
	}
	for _, in := range found {
		if in.Outcome == Succeeded {
			return &in
		}
	}
	return &found[0]
}

// lookedUp converts a PaymentIntent read back from Stripe: unlike a create's answer, a failed
// attempt is an outcome (Failed), not a *DeclinedError, and any other status is Pending.
func lookedUp(pi *stripe.PaymentIntent) Intent {
	in := Intent{ID: pi.ID, Amount: pi.Amount, Currency: string(pi.Currency), OrderID: pi.Metadata["order_id"], Outcome: outcomeOf(pi)}
	if in.Outcome == "" {
		in.Outcome = Pending
	}
	return in
}
