package checkout

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/checkout-idem/checkout/internal/payment"
)

// SearchSettle is how long after a provider key was first used the provider's search is trusted
// to show a payment made with it (Stripe: searchable within about a minute).
const SearchSettle = 2 * time.Minute

// retryLater is a provider failure that a retry can only get past later.
type retryLater struct {
	detail string
	after  int // seconds
}

func (e *retryLater) Error() string { return e.detail }

// charge creates the order's payment under its provider key. A provider that stored a failure
// against that key replays it to every retry (Stripe does, for 24 h), which would block the order
// for a day: then charge moves to a new key, but only once the provider's search, trusted after
// SearchSettle, shows that no payment exists for the order (if one does, it is the answer). The
// key in use is recorded on the order, so every later attempt uses it and there is never a
// second charge.
func (s *service) charge(ctx context.Context, id string, req request, scopedKey string) (payment.Intent, error) {
	preq := payment.Request{
		OrderID: id, Amount: req.Amount, Currency: req.Currency, PaymentMethod: req.PaymentMethod,
		CustomerEmail: req.CustomerEmail, IdempotencyKey: ProviderKey(scopedKey),
	}
	intent, err := s.Payments.CreatePayment(ctx, preq)
	if !errors.Is(err, payment.ErrReplayedFailure) {
		return intent, err
	}
	o, gerr := s.Orders.Get(ctx, id)
	if gerr != nil {
		return intent, err
	}
	if o.ProviderKey != "" && o.ProviderKey != preq.IdempotencyKey {
		preq.IdempotencyKey = o.ProviderKey // an earlier retry moved to this key
		if intent, err = s.Payments.CreatePayment(ctx, preq); !errors.Is(err, payment.ErrReplayedFailure) {
			return intent, err
		}
	}
	since := o.ProviderKeyAt
	if since.IsZero() {
		since = o.CreatedAt
	}
	if wait := since.Add(SearchSettle).Sub(s.Now()); wait > 0 {
		return intent, &retryLater{after: int(math.Ceil(wait.Seconds())), detail: "the payment provider failed and keeps " +
			"answering that failure for this attempt; retry with the same Idempotency-Key after Retry-After seconds"}
	}
	found, err := s.Payments.FindByOrder(ctx, id)
	if err != nil {
		return payment.Intent{}, err
	}
	if found != nil {
		s.Logger.InfoContext(ctx, "checkout: payment found after a stored provider failure", "order_id", id, "intent", found.ID)
		return *found, nil
	}
	next := NextProviderKey(preq.IdempotencyKey)
	if err := s.Orders.Rekey(ctx, id, preq.IdempotencyKey, next, s.Now()); err != nil {
		return payment.Intent{}, fmt.Errorf("%w: recording the new provider key: %w", payment.ErrUnavailable, err)
	}
	s.Logger.WarnContext(ctx, "checkout: new provider key after a stored provider failure", "order_id", id)
	preq.IdempotencyKey = next
	return s.Payments.CreatePayment(ctx, preq)
}

// ProviderKey returns the first idempotency key sent to the payment provider for a scoped key:
// the same on every attempt, including one that takes over an expired lease.
func ProviderKey(scopedKey string) string { return "checkout-" + scopedKey }

// NextProviderKey returns the key that follows key after a stored provider failure: key/2,
// key/3, and so on.
func NextProviderKey(key string) string {
	base, n := key, 1
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		if m, err := strconv.Atoi(key[i+1:]); err == nil {
			base, n = key[:i], m
		}
	}
	return base + "/" + strconv.Itoa(n+1)
}
