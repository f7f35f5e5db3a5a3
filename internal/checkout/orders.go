package checkout

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/problem"
)

// existingOrder answers a key whose idempotency record expired while its order exists beyond
// created (Reserve found it, o): the original order, never a second one or a second charge. Its
// answer is not stored.
func (s *service) existingOrder(w http.ResponseWriter, r *http.Request, o orders.Order) {
	req, _ := r.Context().Value(requestKey{}).(request)
	if !sameRequest(o, req) {
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

// answeredBefore answers with the key's order when one exists beyond created, and reports
// whether it did, and whether the key's order is created with its units held (an earlier
// attempt reserved them: it answers nothing then). A rejection the catalog decides before the reservation (a changed price, a
// retired product, the sold-out mark) calls it first: when the key's idempotency record has
// expired, its order (paid, say) is the answer, or 422 for another request, not what today's
// catalog says. It costs one read, on those paths only. A created order (a crashed attempt)
// does not answer: a changed price or a retired product still refuses the retry (its units go
// back when the reconciler abandons it), and the sold-out mark lets it through to its
// reservation when it holds its units.
func (s *service) answeredBefore(w http.ResponseWriter, r *http.Request, id string) (answered, holds bool) {
	o, err := s.Orders.Get(r.Context(), id)
	switch {
	case errors.Is(err, orders.ErrNotFound):
		return false, false
	case err != nil:
		s.Logger.WarnContext(r.Context(), "checkout: order not read before a rejection", "order_id", id, "error", err.Error())
		return false, false
	case o.Status == orders.Created:
		return false, o.Units == orders.Held
	}
	s.existingOrder(w, r, o)
	return true, false
}

// sameRequest reports whether req asks for what o was made for (the fields the fingerprint
// covers, the prices aside: the order keeps those it was made with).
func sameRequest(o orders.Order, req request) bool {
	if o.Currency != req.Currency || o.PaymentMethod != req.PaymentMethod || o.CustomerEmail != req.CustomerEmail ||
		len(o.Lines) != len(req.Items) || (req.Amount != 0 && req.Amount != o.Amount) {
		return false
	}
	for i, l := range o.Lines {
		if l.SKU != req.Items[i].SKU || l.Quantity != req.Items[i].Quantity {
			return false
		}
	}
	return true
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
