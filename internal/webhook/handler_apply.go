package webhook

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

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
	// OrderID and Status are the order and the status the event asks for (set when the event
	// names an order we know); the order's status is now Status or one ranked above it.
	OrderID string `json:"order_id,omitempty"`
	Status  string `json:"status,omitempty"`
	// Reason says why nothing was applied: "ignored event type", "missing order_id",
	// "unknown order".
	Reason string `json:"reason,omitempty"`
}

// Reasons of Result.
const (
	ReasonIgnoredType  = "ignored event type"
	ReasonNoOrderID    = "missing order_id"
	ReasonUnknownOrder = "unknown order"
)

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
	intent := ev.Object.PaymentIntent
	if strings.HasPrefix(ev.Type, "payment_intent.") {
		intent = ev.Object.ID
	}
	now := h.Now()
	log = log.With(slog.String("order_id", ev.Object.OrderID), slog.String("status", string(to)))
	changed, err := h.Orders.Advance(ctx, ev.Object.OrderID, to, intent, now)
	switch {
	case errors.Is(err, orders.ErrNotFound):
		// The checkout stores its order when its request completes, and the provider may
		// deliver the payment's event before that: a young event is retried, an old one is not.
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
	case err != nil:
		log.ErrorContext(ctx, "webhook not applied", slog.String("error", err.Error()))
		problem.Write(w, problem.New(http.StatusInternalServerError, problem.EventNotApplied,
			"the event could not be applied; deliver it again"))
		return
	}
	log.InfoContext(ctx, "webhook applied", slog.Bool("changed", changed))
	writeResult(w, Result{Applied: changed, OrderID: ev.Object.OrderID, Status: string(to)})
}

func writeResult(w http.ResponseWriter, res Result) {
	res.Received = true
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(res)
}
