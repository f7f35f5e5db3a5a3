// Package problem writes RFC 9457 problem details (application/problem+json). Every error this
// API answers goes through Write, with one of the stable Type values below, so clients can
// switch on "type" and the README can list them all.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Stable problem types. They are relative URI references (RFC 9457 §3.1.1); never change one.
const (
	KeyMissing       = "/problems/idempotency-key-missing"     // 400
	KeyInvalid       = "/problems/idempotency-key-invalid"     // 400
	KeyMismatch      = "/problems/idempotency-key-reused"      // 422: same key, different request
	KeyInProgress    = "/problems/idempotency-key-in-progress" // 409 + Retry-After
	ResponseTooLarge = "/problems/response-not-replayable"     // 409: completed, too large to store
	InvalidRequest   = "/problems/invalid-request"             // 400: body, field or header invalid; not stored
	ProviderRefused  = "/problems/payment-provider-refused"    // 400: the provider refused a value; stored
	MediaType        = "/problems/unsupported-media-type"      // 415
	BodyTooLarge     = "/problems/body-too-large"              // 413
	NotFound         = "/problems/not-found"                   // 404
	MethodNotAllowed = "/problems/method-not-allowed"          // 405
	PaymentDeclined  = "/problems/payment-declined"            // 402
	ProviderError    = "/problems/payment-provider-error"      // 502: safe to retry
	StoreUnavailable = "/problems/store-unavailable"           // 503: safe to retry
	SignatureInvalid = "/problems/webhook-signature-invalid"   // 400
	EventInvalid     = "/problems/webhook-event-invalid"       // 400
	EventNotApplied  = "/problems/webhook-event-not-applied"   // 500: the provider retries
	Internal         = "/problems/internal"                    // 500
	UnknownProduct   = "/problems/unknown-product"             // 400: a sku not sold, or not in that currency; not stored
	OutOfStock       = "/problems/out-of-stock"                // 409: too few units; nothing charged, not stored
	PriceChanged     = "/problems/price-changed"               // 409: amount is not the current total; not stored
)

// ContentType is the media type of every problem body.
const ContentType = "application/problem+json"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the request field at fault, for invalid-request problems.
	Field string `json:"field,omitempty"`
	// OrderID is the order the problem concerns (an extension member, RFC 9457 §3.2): the
	// failed order of a 402.
	OrderID string `json:"order_id,omitempty"`
	// SKUs names the products at fault (out-of-stock, unknown-product); Amount and Currency
	// are the current total of a price-changed.
	SKUs     []string `json:"skus,omitempty"`
	Amount   int64    `json:"amount,omitempty"`
	Currency string   `json:"currency,omitempty"`
	// RetryAfter, in seconds, is also sent as the Retry-After header when positive.
	RetryAfter int `json:"retry_after,omitempty"`
}

// Write sends p with its status code.
func Write(w http.ResponseWriter, p Problem) {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Cache-Control", "no-store")
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// New is shorthand for a problem of type typ with status and detail.
func New(status int, typ, detail string) Problem {
	return Problem{Type: typ, Status: status, Title: http.StatusText(status), Detail: detail}
}
