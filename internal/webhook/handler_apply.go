package webhook

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/checkout-idem/checkout/internal/emf"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/problem"
)

// statusOf maps the event types we apply to the order status they move an order to.
var statusOf = map[string]orders.Status{
	"payment_intent.succeeded":       orders.Paid,
	"payment_intent.payment_failed":  orders.Failed,
	"payment_intent.requires_action": orders.RequiresAction,
	"charge.refunded":                orders.Refunded,
}

// Result is the body of every 200 answer to a delivery.
type Result struct {
	Received bool `json:"received"` // always true
	// Applied reports whether this delivery changed the order. False for a duplicate event
	// (another event id for the same change), an older event arriving late, and ignored ones.
	Applied bool `json:"applied"`
	// OrderID and Status are the order and its status after the event (set when the event
	// names an order we know). AmountRefunded is the order's after a charge.refunded.
	OrderID        string `json:"order_id,omitempty"`
	Status         string `json:"status,omitempty"`
	AmountRefunded int64  `json:"amount_refunded,omitempty"`
	// Reason says why nothing was applied: one of the Reason constants.
	Reason string `json:"reason,omitempty"`
}

// Reasons of Result.
const (
	ReasonIgnoredType   = "ignored event type"
	ReasonNoOrderID     = "missing order_id"
	ReasonUnknownOrder  = "unknown order"
	ReasonForeignIntent = "another payment intent"
)

// MetricsNamespace is the CloudWatch namespace of the handler's metrics (Embedded Metric Format
// in its log lines): ForeignIntent counts events acknowledged but not applied because they name
// another payment intent than their order's.
const MetricsNamespace = "Checkout/Webhooks"

// change is what event ev asks of its order.
func change(ev Event, to orders.Status) orders.Change {
	o := ev.Object
	c := orders.Change{To: to, IntentID: o.PaymentIntent, Amount: o.Amount, Currency: o.Currency}
	if strings.HasPrefix(ev.Type, "payment_intent.") {
		c.IntentID = o.ID
	}
	if to == orders.Refunded {
		c.AmountRefunded = o.AmountRefunded
		if o.Refunded && c.AmountRefunded < o.Amount {
			c.AmountRefunded = o.Amount // refunded: true is a full refund whatever the total says
		}
	}
	return c
}

// apply runs once per delivery id, under the engine's claim: a 200 is stored and replayed to
// duplicates; a 5xx releases the claim so that the provider's retry applies the event.
func (h *handler) apply(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, ok := ctx.Value(verifiedKey{}).(verified)
	if !ok {
		h.Logger.ErrorContext(ctx, "webhook: apply ran without a verified delivery")
		problem.Write(w, problem.New(http.StatusInternalServerError, problem.Internal, "internal error"))
		return
	}
	ev := v.event
	log := h.Logger.With(slog.String("scheme", v.scheme), slog.String("delivery_id", v.delivery.ID),
		slog.String("event_id", ev.ID), slog.String("event_type", ev.Type))
	to, known := statusOf[ev.Type]
	switch {
	case !known:
		log.InfoContext(ctx, "webhook ignored", slog.String("reason", ReasonIgnoredType))
		writeResult(w, Result{Reason: ReasonIgnoredType})
		return
	case ev.Object.OrderID == "":
		log.WarnContext(ctx, "webhook ignored", slog.String("reason", ReasonNoOrderID),
			slog.String("object_id", ev.Object.ID))
		writeResult(w, Result{Reason: ReasonNoOrderID})
		return
	}
	now := h.Now()
	c := change(ev, to)
	c.Now = now
	log = log.With(slog.String("order_id", ev.Object.OrderID), slog.String("to", string(to)),
		slog.String("payment_intent_id", c.IntentID))
	if to == orders.Refunded && c.AmountRefunded <= 0 {
		log.WarnContext(ctx, "webhook ignored", slog.String("reason", "refund without an amount"))
		writeResult(w, Result{Reason: "refund without an amount"})
		return
	}
	a, err := h.Orders.Apply(ctx, ev.Object.OrderID, c)
	if err == nil && a.Unstocked {
		// The buyer paid after the order's units went back to stock and were sold. The webhook
		// function holds no provider key: this error line is the alarm, and the refund is made
		// by hand or by the reconciler (reconcile.RefundUnstocked).
		log.ErrorContext(ctx, "paid after its units were sold: refund it", slog.Int64("amount", a.Order.Amount))
	}
	switch {
	case errors.Is(err, orders.ErrNotFound):
		// The checkout writes its order right after it claims its key, before the charge; an event
		// for an unknown order is rare (the order's table lags, or another system's payment).
		// A young one is retried, an old one is not.
		if !ev.Created.IsZero() && now.Sub(ev.Created) < h.InFlight {
			log.InfoContext(ctx, "webhook for an order not stored yet: asking for a retry",
				slog.Duration("age", now.Sub(ev.Created)))
			p := problem.New(http.StatusServiceUnavailable, problem.EventNotApplied,
				"the order of this event is not stored yet; deliver it again later")
			p.RetryAfter = inFlightRetryAfter
			problem.Write(w, p)
			return
		}
		log.WarnContext(ctx, "webhook ignored", slog.String("reason", ReasonUnknownOrder))
		writeResult(w, Result{Reason: ReasonUnknownOrder})
		return
	case errors.Is(err, orders.ErrForeignIntent):
		// Acknowledged so the provider stops, never applied: a succeeded event for another
		// intent must not mark this order paid. Counted, for an alarm.
		log.WarnContext(ctx, "webhook ignored", slog.String("reason", ReasonForeignIntent),
			slog.String("order_payment_intent_id", a.Order.PaymentIntentID), slog.Int("ForeignIntent", 1),
			emf.Block(now, foreignIntentEMF))
		writeResult(w, Result{OrderID: ev.Object.OrderID, Reason: ReasonForeignIntent})
		return
	case err != nil:
		log.ErrorContext(ctx, "webhook not applied", slog.String("error", err.Error()))
		problem.Write(w, problem.New(http.StatusInternalServerError, problem.EventNotApplied,
			"the event could not be applied; deliver it again"))
		return
	}
	res := Result{Applied: a.Changed, OrderID: ev.Object.OrderID, Status: string(a.Order.Status)}
	if to == orders.Refunded {
		res.AmountRefunded = a.Order.AmountRefunded
	}
	log.InfoContext(ctx, "webhook applied", slog.Bool("changed", a.Changed), slog.String("status", res.Status))
	writeResult(w, res)
}

// foreignIntentEMF is the constant CloudWatchMetrics directive of the foreign-intent warning.
var foreignIntentEMF = emf.Directive(MetricsNamespace, nil, "ForeignIntent")

func writeResult(w http.ResponseWriter, res Result) {
	res.Received = true
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(res)
}
