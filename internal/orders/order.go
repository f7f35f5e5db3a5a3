package orders

import (
	"context"
	"errors"
	"time"
)

// Order is one order, as stored and as returned by GET /orders/{id}.
type Order struct {
	ID              string    `json:"order_id"`
	CartID          string    `json:"cart_id"`
	Amount          int64     `json:"amount"` // in the currency's minor unit
	Currency        string    `json:"currency"`
	Status          Status    `json:"status"`
	PaymentIntentID string    `json:"payment_intent_id"`
	CustomerEmail   string    `json:"customer_email,omitempty"`
	AmountRefunded  int64     `json:"amount_refunded"` // minor units; only ever rises
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	// Owner is the caller principal that created the order ("" anonymous).
	Owner string `json:"-"`
	// PaymentMethod is the one the order was created with, compared when its key is reused
	// after the idempotency record expired.
	PaymentMethod string `json:"-"`
	// ProviderKey is the idempotency key sent to the payment provider for this order, and
	// ProviderKeyAt when Rekey recorded it (zero for the first key: CreatedAt).
	ProviderKey   string    `json:"-"`
	ProviderKeyAt time.Time `json:"-"`
}

// Store errors.
var (
	ErrNotFound = errors.New("orders: order not found")
	ErrExists   = errors.New("orders: order already exists")
	// ErrConflict: a Begin or Settle write found the order in a state it may not change (the
	// memory store's writes return it; DynamoDB cancels the transaction instead).
	ErrConflict = errors.New("orders: order not in a state this write accepts")
	// ErrForeignIntent: a Change names a payment intent that is not the order's (or, for an
	// order without one, an amount or currency that differ from the order's). Nothing changed.
	ErrForeignIntent = errors.New("orders: change for another payment intent")
)

// Change is what a payment event or the reconciler asks Store.Apply to do to an order.
type Change struct {
	// To is the status asked for. Refunded with AmountRefunded < Amount is a partial refund:
	// the status stays and only AmountRefunded is recorded.
	To Status
	// IntentID is the provider's payment intent. The change applies when it is the order's,
	// or when the order has none and Amount and Currency equal the order's (then IntentID is
	// recorded).
	IntentID string
	Amount   int64  // the intent's (or charge's) amount, minor units
	Currency string // lowercase ISO 4217
	// AmountRefunded is the total refunded so far (charge.refunded's amount_refunded).
	AmountRefunded int64
	Now            time.Time // becomes UpdatedAt
	// UpdatedBefore, when not zero, applies the change only to an order last updated before
	// it: the reconciler's guard against a retry or an event that moved the order meanwhile.
	UpdatedBefore time.Time
}

// Applied is the result of Store.Apply.
type Applied struct {
	// Changed reports whether the call changed the order: its status, or its AmountRefunded
	// (a partial refund). False for a repeated, late or older event.
	Changed bool
	// Order is the order after the call; the zero Order when the stored one was not read.
	Order Order
}

// Store keeps orders. MemoryStore and DynamoStore implement it and pass the same contract tests.
// Times are stored in UTC with nanosecond precision; stored orders come back with UTC times.
//
// Begin and Settle return writes for the caller to commit atomically with an idempotency record:
// a types.TransactWriteItem (DynamoStore) or a func() error that checks and then applies under
// the store's own lock (MemoryStore; it calls nothing else, so it may run under another
// store's lock).
type Store interface {
	// Get returns the order id (strongly consistent), or ErrNotFound.
	Get(ctx context.Context, id string) (Order, error)
	// Begin returns the write that records o in state Created, to commit with the claim of its
	// idempotency key: it creates the order, or resets one that is Created (a retry taking
	// over a crashed attempt: the stored CreatedAt and ProviderKey are kept) or Abandoned, for
	// the same cart, amount, currency, e-mail and payment method. It fails (the transaction is
	// cancelled; the memory write returns ErrConflict) when the order exists in any other state
	// or was created for other parameters. An empty ID or ProviderKey or an Amount <= 0 is a Go
	// error, not a write.
	Begin(o Order) (any, error)
	// Settle returns the write that moves order id to to (Pending, RequiresAction, Failed or
	// Paid) at now, recording intentID when not empty, to commit with the idempotency
	// completion. It fails when the order is absent, ranks above to, or has another intent;
	// an equal rank (a webhook came first) succeeds. Another to is a Go error.
	Settle(id string, to Status, intentID string, now time.Time) (any, error)
	// Apply applies c to order id with one conditional write (see Change): the rank only
	// rises, AmountRefunded never decreases. An unknown id returns ErrNotFound, a foreign
	// intent an error matching ErrForeignIntent, an invalid c.To ErrInvalidStatus.
	Apply(ctx context.Context, id string, c Change) (Applied, error)
	// Stuck returns at most limit orders in Created or Pending last updated before before:
	// Created ones first (a crashed checkout's, which may hide a charge), each status oldest
	// first (eventually consistent in DynamoDB: a sparse index, never a Scan). Pending orders
	// waiting for their buyer cannot crowd out Created ones.
	Stuck(ctx context.Context, before time.Time, limit int) ([]Order, error)
	// Rekey records to as the provider key of order id in place of from, at now, while the
	// order is Created: checkout moves to a new key after the provider stored a failure
	// against from. It returns an error matching ErrConflict when the order has another key
	// or is no longer Created, ErrNotFound for an unknown id.
	Rekey(ctx context.Context, id, from, to string, now time.Time) error
	// Create inserts o on its own, or returns ErrExists. For tools and tests; the checkout
	// path uses Begin. An empty o.Status is stored as Created.
	Create(ctx context.Context, o Order) error
}

// normalize is what both stores apply before storing o.
func normalize(o Order) Order {
	if o.Status == "" {
		o.Status = Created
	}
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return o
}
