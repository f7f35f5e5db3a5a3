package payment

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// Local is an in-memory Provider that answers like Stripe's test mode, for `make run` without
// an account and for tests that need faults stripe-mock cannot produce. It is safe for
// concurrent use; the zero value is ready.
//
// Payment methods are Stripe's test PaymentMethods:
//
//	""                                   Pending: the buyer confirms with ClientSecret
//	pm_card_visa, pm_card_mastercard,    Succeeded (any other pm_card_... too)
//	  pm_card_amex, ...
//	pm_card_authenticationRequired,      RequiresAction (3-D Secure)
//	  pm_card_threeDSecure2Required,
//	  pm_card_threeDSecureRequired
//	pm_card_chargeDeclined,              *DeclinedError card_declined / generic_decline
//	  pm_card_visa_chargeDeclined
//	pm_card_[visa_]chargeDeclinedX       *DeclinedError for X: InsufficientFunds, LostCard,
//	                                       StolenCard, Fraudulent, ExpiredCard, IncorrectCvc,
//	                                       ProcessingError
//	anything else                        *RejectedError resource_missing (no such PaymentMethod)
//
// Like Stripe, a decline still creates a PaymentIntent (its id is in the DeclinedError), an
// amount below 1, an amount below Stripe's minimum charge for its currency (amount_too_small;
// see minimumCharge) or a currency that is not three lowercase letters is a *RejectedError, and
// idempotency keys work as Stripe documents them: the first call with a key that gets past
// validation is stored, success or decline; a later call with the same key and the same Request
// returns the same result (same Intent id) without creating anything; the same key with a
// different Request is a *RejectedError of Type idempotency_error (Stripe's 400). Keys never
// expire. An empty key is not stored: each such call creates a new PaymentIntent. Where Stripe
// answers 409 to a call whose key is still being processed, Local has no such window: a payment
// is processed under a lock, so concurrent calls with one key all get the one Intent.
type Local struct {
	mu    sync.Mutex
	byKey map[string]*localResult
	all   []*localResult // every PaymentIntent created, oldest first, for Retrieve and FindByOrder
	// refunds holds every refund made with a key, by key (local_reverse.go).
	refunds map[string]*localRefund
	hooks   // fault injection and counters for tests; empty in production builds (local_faults.go)
}

var _ Provider = (*Local)(nil)

// NewLocal returns an empty Local provider.
func NewLocal() *Local { return &Local{} }

// localResult is what a key stored: the request it was first used with, and the answer.
// canceled and refunded are what Cancel and Refund did to the PaymentIntent since: Retrieve
// and FindByOrder report them, a replay of the key does not (Stripe replays its first answer).
type localResult struct {
	req      Request // IdempotencyKey cleared: the fingerprint a replay must match
	intent   Intent
	declined *DeclinedError
	canceled bool
	refunded int64 // minor units
	// authenticated: the buyer finished 3-D Secure (Authenticate, tests only), so a
	// RequiresAction intent succeeded.
	authenticated bool
}

// process replays the result stored under req's key, or validates req, creates a
// PaymentIntent and stores the result. It holds the lock throughout and never blocks.
func (l *Local) process(req Request, decline string) (Intent, error) {
	if len(strings.TrimSpace(req.IdempotencyKey)) > maxKeyLen {
		return Intent{}, keyTooLong()
	}
	fingerprint := req
	fingerprint.IdempotencyKey = ""

	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.byKey[req.IdempotencyKey]; ok {
		if r.req != fingerprint {
			return Intent{}, &RejectedError{StatusCode: http.StatusBadRequest, Type: "idempotency_error",
				Message: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters "+
					"they were first used with. Try using a key other than '%s' if you meant to execute a "+
					"different request.", req.IdempotencyKey)}
		}
		return r.answer()
	}
	outcome, declined, err := localOutcome(req)
	if err != nil {
		return Intent{}, err // validation failures are not stored
	}
	if decline != "" {
		declined = &DeclinedError{Code: "card_declined", DeclineCode: decline, Message: "Your card was declined."}
	}
	l.hooks.created()
	id := "pi_" + randomText(24)
	r := &localResult{req: fingerprint, intent: Intent{ID: id, Outcome: outcome, ClientSecret: id + "_secret_" + randomText(25)}}
	if declined != nil {
		declined.IntentID = id
		r.intent, r.declined = Intent{}, declined
	}
	l.all = append(l.all, r)
	if req.IdempotencyKey != "" {
		if l.byKey == nil {
			l.byKey = make(map[string]*localResult)
		}
		l.byKey[req.IdempotencyKey] = r
	}
	return r.answer()
}

func (r *localResult) answer() (Intent, error) {
	if r.declined != nil {
		d := *r.declined // a copy: callers may not change what is stored
		return Intent{}, &d
	}
	return r.intent, nil
}

// localOutcome validates req and says what its payment method does.
func localOutcome(req Request) (Outcome, *DeclinedError, error) {
	if req.Amount < 1 {
		return "", nil, &RejectedError{StatusCode: http.StatusBadRequest, Type: "invalid_request_error",
			Code: "parameter_invalid_integer", Param: "amount", Message: "This value must be greater than or equal to 1."}
	}
	if !isCurrency(req.Currency) {
		return "", nil, &RejectedError{StatusCode: http.StatusBadRequest, Type: "invalid_request_error",
			Param: "currency", Message: fmt.Sprintf("Invalid currency: %s.", req.Currency)}
	}
	if e := belowMinimum(req.Amount, req.Currency); e != nil {
		return "", nil, e
	}
	pm := req.PaymentMethod
	card, ok := strings.CutPrefix(pm, "pm_card_")
	switch {
	case pm == "":
		return Pending, nil, nil
	case !ok:
		return "", nil, &RejectedError{StatusCode: http.StatusBadRequest, Type: "invalid_request_error",
			Code: "resource_missing", Param: "payment_method", Message: fmt.Sprintf("No such PaymentMethod: '%s'", pm)}
	case card == "authenticationRequired" || strings.HasPrefix(card, "threeDSecure"):
		return RequiresAction, nil, nil
	}
	reason, ok := strings.CutPrefix(strings.TrimPrefix(card, "visa_"), "chargeDeclined")
	if !ok {
		return Succeeded, nil, nil
	}
	d, ok := testDeclines[reason]
	if !ok {
		d = testDeclines[""]
	}
	return "", &d, nil
}

// testDeclines maps the suffix of pm_card_chargeDeclined... to Stripe's answer.
var testDeclines = map[string]DeclinedError{
	"":                  {Code: "card_declined", DeclineCode: "generic_decline", Message: "Your card was declined."},
	"InsufficientFunds": {Code: "card_declined", DeclineCode: "insufficient_funds", Message: "Your card has insufficient funds."},
	"LostCard":          {Code: "card_declined", DeclineCode: "lost_card", Message: "Your card was declined."},
	"StolenCard":        {Code: "card_declined", DeclineCode: "stolen_card", Message: "Your card was declined."},
	"Fraudulent":        {Code: "card_declined", DeclineCode: "fraudulent", Message: "Your card was declined."},
	"ExpiredCard":       {Code: "expired_card", DeclineCode: "expired_card", Message: "Your card has expired."},
	"IncorrectCvc":      {Code: "incorrect_cvc", DeclineCode: "incorrect_cvc", Message: "Your card's security code is incorrect."},
	"ProcessingError": {Code: "processing_error", DeclineCode: "processing_error",
		Message: "An error occurred while processing your card. Try again in a little bit."},
}

func isCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

const alphanumeric = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomText returns n random alphanumeric characters from crypto/rand.
func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	for i := range b {
		b[i] = alphanumeric[int(b[i])%len(alphanumeric)]
	}
	return string(b)
}
