// Package payment charges buyers through a Provider: Stripe in production (stripe-go, tested
// against stripe-mock) and a local provider that behaves like Stripe's test mode for `make run`
// and for fault-injection tests.
package payment

import (
	"context"
	"errors"
	"fmt"
)

// Outcome is what a created payment needs next.
type Outcome string

const (
	Succeeded      Outcome = "succeeded"       // money captured: the order is paid
	RequiresAction Outcome = "requires_action" // the buyer must confirm (3-D Secure): send ClientSecret
	Pending        Outcome = "pending"         // no payment method yet: the buyer confirms with ClientSecret
	// Failed and Canceled are only reported by Retrieve and FindByOrder: the last attempt
	// failed (CreatePayment answers a *DeclinedError instead), or the intent was canceled
	// (no charge can happen any more).
	Failed   Outcome = "failed"
	Canceled Outcome = "canceled"
)

// Request asks for one payment. IdempotencyKey is sent to the provider on every attempt, so a
// retry after a lost response returns the first PaymentIntent instead of charging again.
type Request struct {
	OrderID        string // sent as metadata order_id; webhooks find the order through it
	Amount         int64  // minor units
	Currency       string // ISO 4217, lowercase
	PaymentMethod  string // optional: confirm immediately with it (e.g. pm_card_visa)
	CustomerEmail  string // optional: receipt_email
	IdempotencyKey string
}

// Intent is the provider's payment object. Amount, Currency and OrderID are set by Retrieve
// and FindByOrder (CreatePayment's caller knows them).
type Intent struct {
	ID           string
	Outcome      Outcome
	ClientSecret string
	Amount       int64  // minor units
	Currency     string // ISO 4217, lowercase
	OrderID      string // metadata order_id
}

// Provider creates payments and finds them again.
type Provider interface {
	CreatePayment(ctx context.Context, req Request) (Intent, error)
	// Retrieve returns the intent with id intentID (an unknown id is a *RejectedError).
	Retrieve(ctx context.Context, intentID string) (Intent, error)
	// FindByOrder returns the intent created for orderID (metadata order_id), nil when there
	// is none. With several (an order paid after an earlier attempt failed), it returns the
	// one that succeeded, else the most recent. Stripe's search lags writes by up to about a
	// minute: callers look for orders older than that.
	FindByOrder(ctx context.Context, orderID string) (*Intent, error)
}

// ErrDeclined is matched (errors.Is) by a *DeclinedError: a business outcome, stored and replayed.
var ErrDeclined = errors.New("payment: declined")

// ErrUnavailable wraps every failure where the provider could not be reached, answered 5xx,
// or its answer was lost: nothing is known to have happened, and a retry with the same
// IdempotencyKey is safe.
var ErrUnavailable = errors.New("payment: provider unavailable")

// ErrReplayedFailure is a 5xx the provider replayed from an earlier attempt with the same
// idempotency key (Stripe stores a 500 against its key and answers it again, with
// Idempotent-Replayed: true, for 24 hours): retrying with that key cannot succeed. Check
// FindByOrder, then retry under a new key. errors.Is(ErrReplayedFailure, ErrUnavailable) holds.
var ErrReplayedFailure = fmt.Errorf("%w: a stored failure replayed for this idempotency key", ErrUnavailable)

// DeclinedError reports a declined payment.
type DeclinedError struct {
	IntentID    string // the PaymentIntent, when the provider created one
	Code        string // e.g. card_declined
	DeclineCode string // e.g. generic_decline, insufficient_funds
	Message     string
}

func (e *DeclinedError) Error() string { return "payment declined: " + e.Code + ": " + e.Message }

// Is makes errors.Is(err, ErrDeclined) true.
func (e *DeclinedError) Is(target error) bool { return target == ErrDeclined }

// ErrRejected is matched (errors.Is) by a *RejectedError: the provider refused the request
// itself (invalid parameters, an idempotency key reused with other parameters, a bad API key).
// Nothing was charged, and sending the same request again gets the same answer.
var ErrRejected = errors.New("payment: request rejected by the provider")

// RejectedError reports a request the provider answered with a 4xx other than a decline,
// a timeout or a rate limit. A handler maps it to 400 when the buyer's input caused it
// (Type invalid_request_error with a Param such as currency or amount) and to 502 otherwise
// (StatusCode 401/403: our configuration; Type idempotency_error: our key handling).
type RejectedError struct {
	StatusCode int    // HTTP status of the provider's answer, e.g. 400
	Type       string // e.g. invalid_request_error, idempotency_error
	Code       string // e.g. parameter_invalid_integer, resource_missing
	Param      string // the offending parameter, when named
	Message    string
	RequestID  string // the provider's request id, for support
}

func (e *RejectedError) Error() string {
	s := "payment rejected: " + e.Type
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Param != "" {
		s += " (" + e.Param + ")"
	}
	return s + ": " + e.Message
}

// Is makes errors.Is(err, ErrRejected) true.
func (e *RejectedError) Is(target error) bool { return target == ErrRejected }
