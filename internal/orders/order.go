package orders

import (
	"context"
	"errors"
	"time"

	"github.com/checkout-idem/checkout/internal/idem"
)

// Order is one order, as stored and as returned by GET /orders/{id}.
type Order struct {
	ID              string `json:"order_id"`
	CartID          string `json:"cart_id"`
	Amount          int64  `json:"amount"` // in the currency's minor unit
	Currency        string `json:"currency"`
	Status          Status `json:"status"`
	PaymentIntentID string `json:"payment_intent_id"`
	CustomerEmail   string `json:"customer_email,omitempty"`
	// PaymentMethod is the payment method the checkout asked for ("" for none), kept so a key
	// reused after its idempotency record expired is compared on every field it was created
	// with. Not part of the order's JSON.
	PaymentMethod string    `json:"-"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Store errors.
var (
	ErrNotFound = errors.New("orders: order not found")
	ErrExists   = errors.New("orders: order already exists")
)

// Store keeps orders. MemoryStore and DynamoStore implement it and pass the same contract tests.
// Times are stored in UTC with nanosecond precision; stored orders come back with UTC times.
type Store interface {
	// Get returns the order id (strongly consistent), or ErrNotFound.
	Get(ctx context.Context, id string) (Order, error)
	// Insert returns a write that creates o unless an order with o.ID exists, to be committed
	// with an idempotency completion (idem.Store.Complete). An empty o.Status is stored as
	// Pending. The write fails when the order exists: its Memory half returns ErrExists, its
	// Dynamo half fails its condition (the idempotency store reports idem.ErrWriteFailed).
	Insert(o Order) idem.Write
	// Absent returns a write that changes nothing and fails when order id exists: a guard for
	// an idempotency claim (idem.Store.Claim).
	Absent(id string) idem.Write
	// Create inserts o on its own, or returns ErrExists. For tools and tests; the checkout
	// path uses Insert.
	Create(ctx context.Context, o Order) error
	// Advance moves order id to status to, at now, if to ranks higher than its current status
	// (see Status.Rank); otherwise it changes nothing and returns changed == false. An unknown
	// id returns ErrNotFound, an invalid to ErrInvalidStatus. A non-empty paymentIntentID is
	// recorded with the change if the order has none yet: the first intent id sticks.
	Advance(ctx context.Context, id string, to Status, paymentIntentID string, now time.Time) (changed bool, err error)
	// Count returns the number of orders (a full scan in DynamoDB: for tests and tools).
	Count(ctx context.Context) (int, error)
}

// normalize is what both stores apply before storing o.
func normalize(o Order) Order {
	if o.Status == "" {
		o.Status = Pending
	}
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return o
}
