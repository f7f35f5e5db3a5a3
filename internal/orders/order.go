package orders

import (
	"context"
	"errors"
	"time"

	"github.com/checkout-idem/checkout/internal/stock"
)

// Order is one order, as stored and as returned by GET /orders/{id}.
type Order struct {
	ID              string    `json:"order_id"`
	CartID          string    `json:"cart_id,omitempty"` // orders made before the catalog
	Amount          int64     `json:"amount"`            // in the currency's minor unit
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
	// Lines are what was bought, at the prices of the moment (empty for an order made without
	// the catalog); Amount is their total. Units is where their units are (see Units), Draws
	// the stock shards they were taken from, where a release puts them back.
	Lines []Line       `json:"lines,omitempty"`
	Units Units        `json:"units,omitempty"`
	Draws []stock.Draw `json:"-"`
	// RefundReason says why the package refunded the order itself (ReasonOutOfStock: paid
	// after its units had gone back to stock and been sold); empty otherwise.
	RefundReason string `json:"refund_reason,omitempty"`
}

// Store errors.
var (
	ErrNotFound = errors.New("orders: order not found")
	ErrExists   = errors.New("orders: order already exists")
	// ErrConflict: a Reserve or Settle write found the order in a state it may not change (the
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
	// Reason is recorded as the order's RefundReason by a change to Refunded.
	Reason string
}

// Applied is the result of Store.Apply.
type Applied struct {
	// Changed reports whether the call changed the order: its status, or its AmountRefunded
	// (a partial refund). False for a repeated, late or older event.
	Changed bool
	// Unstocked reports that the change made the order paid while its units were back in stock
	// and could not all be taken again: the buyer paid for units that are gone. The caller
	// refunds the payment (RefundUnstocked).
	Unstocked bool
	// Order is the order after the call; the zero Order when the stored one was not read.
	Order Order
}

// Store keeps orders. MemoryStore and DynamoStore implement it and pass the same contract tests.
// Times are stored in UTC with nanosecond precision; stored orders come back with UTC times.
//
// Settle returns writes for the caller to commit atomically with an idempotency record:
// types.TransactWriteItems (DynamoStore) or a func() error that checks and then applies under
// the store's own lock (MemoryStore; it calls nothing else, so it may run under another
// store's lock).
type Store interface {
	// Get returns the order id (strongly consistent), or ErrNotFound.
	Get(ctx context.Context, id string) (Order, error)
	// Reserve records o in state Created with its units taken from stock, in one transaction,
	// before any money moves: each line's Quantity from the shards of its sku (shards[sku] of
	// them), never leaving a shard below zero. It returns the order as stored, with its Draws.
	// It creates the order, or takes the units again for one that is Created with its units
	// Released (a provider failure) or Abandoned, for the same purchase (the stored CreatedAt and
	// ProviderKey are kept); for one Created with its units Held for the same purchase (a retry
	// of a reservation whose answer was lost) it takes nothing and returns it. Too few units:
	// an error matching stock.ErrShort (a *stock.ShortError naming the skus), nothing written.
	// Any other state or purchase: the stored order and an error matching ErrConflict.
	Reserve(ctx context.Context, o Order, shards map[string]int) (Order, error)
	// Release puts the units of o (as Reserve returned it) back while it stays Created: the
	// provider could not be reached, and a retry takes them again. Nothing when they are not
	// Held any more.
	Release(ctx context.Context, o Order, now time.Time) error
	// Settle returns the writes that move order o (as Reserve returned it) to to (Pending,
	// RequiresAction, Failed or Paid) at now, recording intentID when not empty, to commit with
	// the idempotency completion: types.TransactWriteItems (DynamoStore) or one func() error
	// (MemoryStore). Failed puts the units back. They fail when the order is absent, ranks above
	// to, has another intent or (for an order with lines) no longer holds its units; an equal
	// rank (a webhook came first) succeeds. Another to is a Go error.
	Settle(o Order, to Status, intentID string, now time.Time) ([]any, error)
	// Apply applies c to order id with one conditional write (see Change): the rank only
	// rises, AmountRefunded never decreases. Units move in the same write: put back when an
	// order holding them becomes Failed or Abandoned, taken again when one that released them
	// becomes Paid (Applied.Unstocked when they are gone). An unknown id returns ErrNotFound, a foreign
	// intent an error matching ErrForeignIntent, an invalid c.To ErrInvalidStatus.
	Apply(ctx context.Context, id string, c Change) (Applied, error)
	// Stuck returns at most limit open orders (Created, Pending, RequiresAction: Status.Open)
	// last updated before before (and those paid after their units were sold, until refunded,
	// among the Created): Created ones first (a crashed checkout's, which may hide a charge),
	// then Pending, then RequiresAction, each status oldest first (eventually consistent in
	// DynamoDB: a sparse index, never a Scan). Orders waiting for their buyer cannot crowd out
	// Created ones.
	Stuck(ctx context.Context, before time.Time, limit int) ([]Order, error)
	// Rekey records to as the provider key of order id in place of from, at now, while the
	// order is Created: checkout moves to a new key after the provider stored a failure
	// against from. It returns an error matching ErrConflict when the order has another key
	// or is no longer Created, ErrNotFound for an unknown id.
	Rekey(ctx context.Context, id, from, to string, now time.Time) error
	// Create inserts o on its own, or returns ErrExists. For tools and tests; the checkout
	// path uses Reserve. An empty o.Status is stored as Created.
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
