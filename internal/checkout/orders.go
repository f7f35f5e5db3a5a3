package checkout

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/problem"
)

// existingOrder answers a key whose idempotency record expired while its order exists (the
// claim guard failed): the original order, never a second one or a second charge. It runs
// unclaimed, and its answer is not stored.
func (s *service) existingOrder(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	info, _ := idem.FromContext(ctx)
	req, _ := ctx.Value(requestKey{}).(request)
	o, err := s.Orders.Get(ctx, OrderID(info.ScopedKey))
	if err != nil {
		s.Logger.ErrorContext(ctx, "checkout: existing order unreadable", "order_id", OrderID(info.ScopedKey), "error", err.Error())
		problem.Write(w, problem.Problem{Type: problem.StoreUnavailable, Status: http.StatusServiceUnavailable,
			Detail: "the order of this Idempotency-Key could not be read; retry with the same key", RetryAfter: 1})
		return
	}
	// The same fields the fingerprint covers (request.fingerprint).
	if (request{CartID: o.CartID, Amount: o.Amount, Currency: o.Currency, PaymentMethod: o.PaymentMethod,
		CustomerEmail: o.CustomerEmail}) != req {
		problem.Write(w, problem.New(http.StatusUnprocessableEntity, problem.KeyMismatch,
			"this Idempotency-Key was used with a different request; use a new key for a new request"))
		return
	}
	if o.Status == orders.Failed {
		p := problem.New(http.StatusPaymentRequired, problem.PaymentDeclined, fmt.Sprintf(
			"the payment of order %s was declined earlier; start a new checkout with a new Idempotency-Key", o.ID))
		p.OrderID = o.ID
		problem.Write(w, p)
		return
	}
	w.Header().Set("Location", "/orders/"+o.ID)
	writeJSON(w, http.StatusOK, view(o))
}

// getOrder answers GET /orders/{id}. An order created by an identified caller (an authorizer's
// principal) is only shown to that caller: anyone else gets the same 404 as for an unknown id.
// Without a caller identity the order is shown without personal data (no customer_email).
func (s *service) getOrder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validOrderID(id) {
		problem.Write(w, problem.New(http.StatusNotFound, problem.NotFound, "no such order"))
		return
	}
	principal := ""
	if s.Principal != nil {
		principal = s.Principal(r)
	}
	o, err := s.Orders.Get(r.Context(), id)
	switch {
	case errors.Is(err, orders.ErrNotFound) || (err == nil && o.Owner != "" && o.Owner != principal):
		problem.Write(w, problem.New(http.StatusNotFound, problem.NotFound, "no such order: "+id))
	case err != nil:
		s.Logger.ErrorContext(r.Context(), "checkout: get order", "order_id", id, "error", err.Error())
		problem.Write(w, problem.Problem{Type: problem.StoreUnavailable, Status: http.StatusServiceUnavailable,
			Detail: "the order store is unavailable; retry", RetryAfter: 1})
	default:
		if principal == "" {
			o.CustomerEmail = ""
		}
		writeJSON(w, http.StatusOK, o)
	}
}
