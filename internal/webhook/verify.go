package webhook

import (
	"crypto/hmac"
	"errors"
	"net/http"
	"strings"
	"time"
)

// DefaultTolerance is how far a signed timestamp may lie from now, in either direction, when a
// verifier's Tolerance is zero. It is Stripe's default and the Standard Webhooks recommendation.
const DefaultTolerance = 300 * time.Second

// MaxBodyBytes caps the raw body a handler should read before verifying it. Stripe's payment
// events are a few KiB; anything near this size is not one of ours.
const MaxBodyBytes = 256 << 10

// maxSignatureHeader bounds the signature header we parse, so the work per request is bounded
// whatever a caller sends (real headers are under 300 bytes, even during a secret rotation).
const maxSignatureHeader = 8 << 10

// ErrInvalid is wrapped by every error a [Verifier] or [ParseEvent] returns: the delivery is not
// one we accept, and answering 400 is right. The sentinels below say why.
var ErrInvalid = errors.New("webhook: invalid delivery")

// Why a delivery was refused. Each wraps [ErrInvalid]; match them with [errors.Is].
var (
	// ErrNoSignature: a required header (signature, timestamp or id) is absent or empty.
	ErrNoSignature = wrapInvalid("webhook: signature header missing")
	// ErrMalformedHeader: a header is present but cannot be parsed (no or repeated timestamp,
	// no v1 signature, an entry without a separator, a header longer than 8 KiB).
	ErrMalformedHeader = wrapInvalid("webhook: malformed signature header")
	// ErrBadSignature: the header is well formed but no signature matches any secret.
	ErrBadSignature = wrapInvalid("webhook: no matching signature")
	// ErrTimestamp: the signature is authentic but its timestamp lies further than the
	// tolerance from now, in the past (stale or replayed) or in the future.
	ErrTimestamp = wrapInvalid("webhook: timestamp outside tolerance")
	// ErrMalformedEvent: the body is not a Stripe event (not JSON, no id, no type).
	ErrMalformedEvent = wrapInvalid("webhook: malformed event")
)

type invalidError struct{ msg string }

func wrapInvalid(msg string) error           { return &invalidError{msg} }
func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// Verifier authenticates one webhook delivery: its headers and raw body, checked at now.
// Implementations are pure functions of their arguments and configuration, safe for concurrent
// use. On success the [Delivery] names what to deduplicate on; on failure the error wraps one
// of the Err* sentinels above.
type Verifier interface {
	Verify(h http.Header, body []byte, now time.Time) (Delivery, error)
}

// Delivery is what a verified request tells the caller before it parses the event.
type Delivery struct {
	// ID is the deduplication key: Stripe's event id ("evt_..." from the body, identical across
	// retries of one event) or Standard Webhooks' webhook-id header.
	ID string
	// Timestamp is the signed timestamp of this attempt (it changes on every retry).
	Timestamp time.Time
}

// headerValue returns every value of the header name, joined with ",". The name is matched
// case-insensitively: canonical key first, then the lowercase key (API Gateway lowercases names
// and a map built by hand may keep them), then any other spelling. Joining undoes the Lambda
// adapter's split on commas.
func headerValue(h http.Header, name string) string {
	vals := h[http.CanonicalHeaderKey(name)]
	if len(vals) == 0 {
		vals = h[strings.ToLower(name)]
	}
	if len(vals) == 0 {
		for k, v := range h {
			if strings.EqualFold(k, name) {
				vals = v
				break
			}
		}
	}
	return strings.TrimSpace(strings.Join(vals, ","))
}

// tolerance returns d, or DefaultTolerance when d is not positive.
func tolerance(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTolerance
	}
	return d
}

// withinTolerance reports whether ts lies no further than tol from now, in either direction.
// time.Time.Sub saturates, so absurd timestamps cannot overflow into the window.
func withinTolerance(ts, now time.Time, tol time.Duration) bool {
	d := now.Sub(ts)
	return d <= tol && d >= -tol
}

// anyEqual compares every expected MAC with every received signature using [hmac.Equal], without
// stopping at the first match, so the time taken does not depend on which pair matched.
func anyEqual(expected, received [][]byte) bool {
	ok := false
	for _, e := range expected {
		for _, r := range received {
			if hmac.Equal(e, r) {
				ok = true
			}
		}
	}
	return ok
}
