package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/checkout-idem/checkout/internal/emf"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
)

// Defaults of Options.
const (
	// DefaultAfter is how long an order stays open (created, pending, requires_action) before a run looks at it:
	// far beyond a checkout's lease (25 s) and Stripe's search lag (about a minute).
	DefaultAfter = 10 * time.Minute
	// DefaultLimit bounds the orders of one run.
	DefaultLimit = 100
	// DefaultAbandonAfter is how old (since CreatedAt) an order whose intent is still not
	// final (unconfirmed or processing) must be for a run to abandon it, so that such orders
	// do not stay open for ever and crowd the oldest-first queue. A later success still
	// settles it (paid ranks above abandoned).
	DefaultAbandonAfter = 24 * time.Hour
	// DefaultActionTimeout is how long an order waits in requires_action (since it entered it)
	// for its buyer to act (3-D Secure and the like) before a run cancels its intent and puts
	// its units back: a buyer who walks away, or one who starts checkouts with a card that
	// needs authentication and never authenticates, must not hold stock for ever. Stripe
	// Checkout's shortest session is as long.
	DefaultActionTimeout = 30 * time.Minute
	// MetricsNamespace is the CloudWatch namespace of the run's metrics.
	MetricsNamespace = "Checkout/Reconciler"
)

// Provider is what a run asks the payment provider (payment.Provider satisfies it).
type Provider interface {
	Retrieve(ctx context.Context, intentID string) (payment.Intent, error)
	FindByOrder(ctx context.Context, orderID string) (*payment.Intent, error)
}

// Options are the dependencies of a Reconciler. Orders and Payments are required.
type Options struct {
	Orders   orders.Store
	Payments Provider
	// After (default DefaultAfter), Limit (default DefaultLimit), AbandonAfter (default
	// DefaultAbandonAfter) and ActionTimeout (default DefaultActionTimeout): see the package doc.
	After, AbandonAfter, ActionTimeout time.Duration
	Limit                              int
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Reconciler runs reconciliation passes; it is safe for concurrent use, and so are
// overlapping runs (each change is a conditional write).
type Reconciler struct{ opts Options }

// New returns a Reconciler. It panics when Orders or Payments is nil.
func New(opts Options) *Reconciler {
	if opts.Orders == nil || opts.Payments == nil {
		panic("reconcile: Options.Orders and Payments are required")
	}
	if opts.After <= 0 {
		opts.After = DefaultAfter
	}
	if opts.AbandonAfter <= 0 {
		opts.AbandonAfter = DefaultAbandonAfter
	}
	if opts.ActionTimeout <= 0 {
		opts.ActionTimeout = DefaultActionTimeout
	}
	if opts.Limit <= 0 {
		opts.Limit = DefaultLimit
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Reconciler{opts: opts}
}

// Outcome is what a run did to one order.
type Outcome string

const (
	Settled   Outcome = "settled"   // moved to paid, failed or requires_action
	Abandoned Outcome = "abandoned" // no charge exists, or its buyer never acted: abandoned
	// Waiting: still open, and nothing is wrong: the provider answered that the payment waits
	// on its buyer (unconfirmed, 3-D Secure) or is processing, within AbandonAfter or
	// ActionTimeout. Looked at again next run; no alarm watches it.
	Waiting   Outcome = "waiting"
	Unknown   Outcome = "unknown"   // still open and not known: the provider failed, or the intent is not the order's
	Unchanged Outcome = "unchanged" // already settled by someone else (a webhook, a retry, an earlier run)
)

// Report sums up a run.
type Report struct {
	Examined                                        int
	Settled, Abandoned, Waiting, Unknown, Unchanged int
	// Cutoff is now - After: the run looked at orders last updated before it.
	Cutoff time.Time
}

func (r *Report) count(o Outcome) {
	switch o {
	case Settled:
		r.Settled++
	case Abandoned:
		r.Abandoned++
	case Unchanged:
		r.Unchanged++
	case Waiting:
		r.Waiting++
	default:
		r.Unknown++
	}
}

// Run is one pass at time now: it settles at most Limit orders stuck since before now - After
// (see the package documentation). It returns an error only when the stuck orders cannot be
// listed, or ctx ends before every listed order was looked at (the report counts those done).
func (rc *Reconciler) Run(ctx context.Context, now time.Time) (Report, error) {
	rep := Report{Cutoff: now.Add(-rc.opts.After)}
	stuck, err := rc.opts.Orders.Stuck(ctx, rep.Cutoff, rc.opts.Limit)
	if err != nil {
		return rep, fmt.Errorf("reconcile: list stuck orders: %w", err)
	}
	for _, o := range stuck {
		if err := ctx.Err(); err != nil {
			rc.summary(ctx, now, rep)
			return rep, fmt.Errorf("reconcile: stopped after %d of %d orders: %w", rep.Examined, len(stuck), err)
		}
		rep.Examined++
		rep.count(rc.order(ctx, o, now, rep.Cutoff))
	}
	rc.summary(ctx, now, rep)
	return rep, nil
}

// order reconciles one order and logs its line.
func (rc *Reconciler) order(ctx context.Context, o orders.Order, now, cutoff time.Time) Outcome {
	log := rc.opts.Logger.With(slog.String("order_id", o.ID), slog.String("status", string(o.Status)),
		slog.Time("updated_at", o.UpdatedAt))
	if o.Status == orders.Paid && o.Units == orders.Released {
		// Paid after its units were sold (the webhook applied it, or a refund failed): refund.
		RefundUnstocked(ctx, rc.opts.Orders, rc.opts.Payments, o, now, log)
		return Settled
	}
	in, err := rc.lookUp(ctx, o)
	if err != nil {
		log.WarnContext(ctx, "reconcile order", slog.String("outcome", string(Unknown)), slog.String("error", err.Error()))
		return Unknown
	}
	c := orders.Change{To: orders.Abandoned, Amount: o.Amount, Currency: o.Currency, Now: now, UpdatedBefore: cutoff}
	if in != nil {
		c.IntentID, c.Amount, c.Currency = in.ID, in.Amount, in.Currency
		log = log.With(slog.String("payment_intent_id", in.ID), slog.String("provider_status", string(in.Outcome)))
		c.To = target(in.Outcome)
		switch {
		case c.To == orders.Pending && o.CreatedAt.Before(now.Add(-rc.opts.AbandonAfter)):
			c.To = orders.Abandoned
		case c.To == orders.RequiresAction && o.Status == orders.RequiresAction:
			if !o.UpdatedAt.Before(now.Add(-rc.opts.ActionTimeout)) {
				// Its buyer may still act: a webhook, or a later run, settles it.
				log.InfoContext(ctx, "reconcile order", slog.String("outcome", string(Waiting)), slog.String("now", string(o.Status)))
				return Waiting
			}
			c.To = orders.Abandoned // the buyer never acted: cancel, and the units go back
		}
	}
	if c.To == orders.Abandoned && in != nil && in.Outcome != payment.Canceled {
		// Cancel at the provider first, so no charge can follow the units back into stock.
		rev, ok := rc.opts.Payments.(payment.Reverser)
		if !ok {
			log.ErrorContext(ctx, "reconcile order", slog.String("outcome", string(Unknown)), slog.String("error", "the provider cannot cancel"))
			return Unknown
		}
		got, err := rev.Cancel(ctx, in.ID, "abandon-"+o.ID)
		if err != nil {
			log.WarnContext(ctx, "reconcile order", slog.String("outcome", string(Unknown)), slog.String("error", "cancel: "+err.Error()))
			return Unknown
		}
		if got.Outcome == payment.Succeeded {
			c.To = orders.Paid // charged meanwhile: it settles instead
		}
	}
	a, err := rc.opts.Orders.Apply(ctx, o.ID, c)
	if err == nil && a.Unstocked {
		RefundUnstocked(ctx, rc.opts.Orders, rc.opts.Payments, a.Order, now, log)
	}
	switch {
	case errors.Is(err, orders.ErrForeignIntent):
		log.WarnContext(ctx, "reconcile order", slog.String("outcome", string(Unknown)),
			slog.String("error", err.Error()), slog.String("order_payment_intent_id", a.Order.PaymentIntentID))
		return Unknown
	case err != nil:
		log.ErrorContext(ctx, "reconcile order", slog.String("outcome", string(Unknown)), slog.String("error", err.Error()))
		return Unknown
	case !a.Changed && c.To == orders.Pending:
		log.InfoContext(ctx, "reconcile order", slog.String("outcome", string(Waiting)), slog.String("now", string(a.Order.Status)))
		return Waiting
	case !a.Changed:
		log.InfoContext(ctx, "reconcile order", slog.String("outcome", string(Unchanged)), slog.String("now", string(a.Order.Status)))
		return Unchanged
	}
	out := Settled
	switch c.To {
	case orders.Pending:
		out = Waiting
	case orders.Abandoned:
		out = Abandoned
	}
	log.InfoContext(ctx, "reconcile order", slog.String("outcome", string(out)), slog.String("to", string(c.To)))
	return out
}

// RefundUnstocked refunds an order that was paid after its units went back to stock and were
// sold (orders.Applied.Unstocked): one refund of the whole amount under a key derived from the
// order, then the order is marked refunded with reason out_of_stock. It logs at error level
// either way (an alarm watches the reconciler's and webhook's errors). A failure leaves the
// order paid without units; the next attempt, with the same refund key, refunds at most once.
func RefundUnstocked(ctx context.Context, store orders.Store, p any, o orders.Order, now time.Time, log *slog.Logger) {
	log = log.With(slog.String("order_id", o.ID), slog.String("payment_intent_id", o.PaymentIntentID))
	rev, ok := p.(payment.Reverser)
	if !ok {
		log.ErrorContext(ctx, "paid after its units were sold: refund it by hand", slog.String("error", "the provider cannot refund"))
		return
	}
	refund, err := rev.Refund(ctx, o.PaymentIntentID, o.Amount, "out-of-stock-"+o.ID)
	if err != nil {
		log.ErrorContext(ctx, "paid after its units were sold: refund failed", slog.String("error", err.Error()))
		return
	}
	_, err = store.Apply(ctx, o.ID, orders.Change{To: orders.Refunded, IntentID: o.PaymentIntentID, Amount: o.Amount,
		Currency: o.Currency, AmountRefunded: o.Amount, Reason: orders.ReasonOutOfStock, Now: now})
	log.ErrorContext(ctx, "paid after its units were sold: refunded", slog.String("refund", refund), slog.Any("error", err))
}

// lookUp asks the provider for o's intent: the one it recorded, else the one created for it
// (nil: none exists).
func (rc *Reconciler) lookUp(ctx context.Context, o orders.Order) (*payment.Intent, error) {
	if o.PaymentIntentID != "" {
		in, err := rc.opts.Payments.Retrieve(ctx, o.PaymentIntentID)
		if err != nil {
			return nil, fmt.Errorf("retrieve %s: %w", o.PaymentIntentID, err)
		}
		return &in, nil
	}
	in, err := rc.opts.Payments.FindByOrder(ctx, o.ID)
	if err != nil {
		return nil, fmt.Errorf("find by order: %w", err)
	}
	return in, nil
}

// target is the status an intent's outcome settles an order to.
func target(o payment.Outcome) orders.Status {
	switch o {
	case payment.Succeeded:
		return orders.Paid
	case payment.Failed:
		return orders.Failed
	case payment.RequiresAction:
		return orders.RequiresAction
	case payment.Canceled:
		return orders.Abandoned
	}
	return orders.Pending
}

// runMetrics is the constant directive of a run's EMF line.
var runMetrics = emf.Directive(MetricsNamespace, nil, "Settled", "Abandoned", "Waiting", "Unknown", "Unchanged")

// summary logs the run's line with its EMF metrics.
func (rc *Reconciler) summary(ctx context.Context, now time.Time, rep Report) {
	rc.opts.Logger.InfoContext(ctx, "reconcile run",
		slog.Int("Examined", rep.Examined), slog.Int("Settled", rep.Settled), slog.Int("Abandoned", rep.Abandoned),
		slog.Int("Waiting", rep.Waiting), slog.Int("Unknown", rep.Unknown), slog.Int("Unchanged", rep.Unchanged),
		slog.Time("cutoff", rep.Cutoff),
		emf.Block(now, runMetrics))
}
