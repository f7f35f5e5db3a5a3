package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v84"

	"github.com/checkout-idem/checkout/internal/httpbody"
)

// Stripe creates PaymentIntents through stripe-go. It is the only code that imports stripe-go:
// its answers leave as Intent, *DeclinedError, *RejectedError or an error wrapping
// ErrUnavailable, never as stripe types.
type Stripe struct {
	client *stripe.Client
	base   string
}

var _ Provider = (*Stripe)(nil)

// StripeOption configures NewStripe.
type StripeOption func(*stripeConfig)

type stripeConfig struct {
	httpClient *http.Client
	retries    int64
	logger     *slog.Logger
}

// The time budget of a Stripe call, in one place. The checkout handler runs until its lease
// ends minus a 2 s reserve for the completion or release, within the Lambda's 25 s timeout:
// about 23 s from the claim. One call is at most 1 + DefaultStripeRetries HTTP attempts of
// at most DefaultStripeTimeout each, with stripe-go's sleeps between them (0.5 s, then 1 s;
// the sleeps ignore the context), so its worst case StripeWorstCase is 3 x 6 s + 1.5 s =
// 19.5 s, inside the budget with room for the claim. Every attempt carries the caller's
// context, so a deadline closer than that ends the call sooner (an error wrapping
// ErrUnavailable and context.DeadlineExceeded), and no attempt starts after it.
const (
	// DefaultStripeTimeout bounds one HTTP attempt when WithHTTPClient is not given (that
	// default client also sends each request in one write: httpbody.Transport).
	DefaultStripeTimeout = 6 * time.Second
	// DefaultStripeRetries is how many times stripe-go retries a failed attempt by default. It
	// retries connection errors, timeouts, answers that are not Stripe errors (a proxy's 502
	// page) and 429 lock timeouts, each time with the same Idempotency-Key, and stops once the
	// context is done. It does not retry a Stripe error answer (a JSON 500 or 409): that
	// surfaces as ErrUnavailable, for the caller to retry with the same key.
	DefaultStripeRetries = 2
	// stripeRetrySleeps is the most stripe-go sleeps in total before DefaultStripeRetries
	// retries: 0.5 s x (1 + n²) for retry n = 0, 1 (before jitter, which only shortens them).
	stripeRetrySleeps = 1500 * time.Millisecond
	// StripeWorstCase is the longest a call with the defaults can take.
	StripeWorstCase = (DefaultStripeRetries+1)*DefaultStripeTimeout + stripeRetrySleeps
)

// WithHTTPClient sets the client that carries the requests (its Transport, its Timeout).
func WithHTTPClient(c *http.Client) StripeOption {
	return func(cfg *stripeConfig) { cfg.httpClient = c }
}

// WithMaxNetworkRetries sets how many times stripe-go retries an attempt (0 disables retries).
func WithMaxNetworkRetries(n int) StripeOption {
	return func(cfg *stripeConfig) { cfg.retries = int64(n) }
}

// WithLogger sends stripe-go's log lines to l: its per-request traces and declines at Debug,
// retries at Warn, other error answers at Error. The default is slog.Default(). stripe-go never logs
// the secret key, and it redacts client secrets.
func WithLogger(l *slog.Logger) StripeOption {
	return func(cfg *stripeConfig) { cfg.logger = l }
}

// NewStripe returns a provider that calls the Stripe API with secretKey. apiBase is the API's
// base URL (for example stripe-mock's http://127.0.0.1:12111); empty means api.stripe.com.
func NewStripe(secretKey, apiBase string, opts ...StripeOption) (*Stripe, error) {
	if strings.TrimSpace(secretKey) == "" {
		return nil, errors.New("payment: NewStripe: empty secret key")
	}
	cfg := stripeConfig{retries: DefaultStripeRetries}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.httpClient == nil {
		// httpbody: stripe-go's form bodies would go out chunked, in three writes.
		cfg.httpClient = &http.Client{Timeout: DefaultStripeTimeout, Transport: httpbody.Transport{}}
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	bc := &stripe.BackendConfig{
		HTTPClient:        cfg.httpClient,
		MaxNetworkRetries: stripe.Int64(cfg.retries),
		LeveledLogger:     slogLeveled{cfg.logger},
	}
	base := "https://api.stripe.com"
	if apiBase != "" {
		u, err := url.Parse(apiBase)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("payment: NewStripe: API base %q is not an absolute URL", apiBase)
		}
		base = strings.TrimRight(apiBase, "/")
		bc.URL = stripe.String(base)
	}
	client := stripe.NewClient(secretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(bc)))
	return &Stripe{client: client, base: base}, nil
}

// String names the provider without its key, so printing it cannot leak the key.
func (s *Stripe) String() string { return "payment.Stripe(" + s.base + ")" }

// GoString is String, for %#v.
func (s *Stripe) GoString() string { return s.String() }

// CreatePayment creates a PaymentIntent for req.Amount in req.Currency with metadata order_id.
// With a PaymentMethod it confirms at once (card only, no redirects); without one it enables
// automatic payment methods and the buyer confirms on the page with the client secret.
// req.IdempotencyKey is the Idempotency-Key of the request and of each of stripe-go's retries;
// with an empty key stripe-go makes one per call, so only its own retries are deduplicated.
//
// Results: status succeeded gives Succeeded; requires_action and requires_confirmation give
// RequiresAction; processing, and requires_payment_method without a card error, give Pending;
// all three carry the client secret. A card error gives a *DeclinedError (with the
// PaymentIntent's id when Stripe created one). Connection failures, timeouts, 5xx, 409 and 429
// answers, and answers that are not Stripe errors give an error wrapping ErrUnavailable (and
// the context's error, when that was the cause). Other 4xx give a *RejectedError.
func (s *Stripe) CreatePayment(ctx context.Context, req Request) (Intent, error) {
	if len(strings.TrimSpace(req.IdempotencyKey)) > maxKeyLen {
		return Intent{}, keyTooLong()
	}
	params := &stripe.PaymentIntentCreateParams{
		Amount:   stripe.Int64(req.Amount),
		Currency: stripe.String(req.Currency),
	}
	params.AddMetadata("order_id", req.OrderID)
	if req.CustomerEmail != "" {
		params.ReceiptEmail = stripe.String(req.CustomerEmail)
	}
	if req.PaymentMethod != "" {
		params.PaymentMethod = stripe.String(req.PaymentMethod)
		params.PaymentMethodTypes = []*string{stripe.String("card")}
		params.Confirm = stripe.Bool(true)
	} else {
		params.AutomaticPaymentMethods = &stripe.PaymentIntentCreateAutomaticPaymentMethodsParams{
			Enabled: stripe.Bool(true),
		}
	}
	if req.IdempotencyKey != "" {
		params.SetIdempotencyKey(req.IdempotencyKey)
	}
	pi, err := s.client.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		return Intent{}, stripeError(err)
	}
	return stripeIntent(pi)
}

// maxKeyLen is Stripe's limit on Idempotency-Key.
const maxKeyLen = 255

func keyTooLong() error {
	return &RejectedError{StatusCode: http.StatusBadRequest, Type: "invalid_request_error",
		Param: "Idempotency-Key", Message: fmt.Sprintf("idempotency key longer than %d characters", maxKeyLen)}
}

// stripeIntent converts a create's answer: a failed card attempt is a *DeclinedError, a status a
// create never answers with is an error.
func stripeIntent(pi *stripe.PaymentIntent) (Intent, error) {
	in := Intent{ID: pi.ID, ClientSecret: pi.ClientSecret, Outcome: outcomeOf(pi)}
	switch in.Outcome {
	case Failed:
		if e := pi.LastPaymentError; e.Type == stripe.ErrorTypeCard {
			return Intent{}, declined(e, pi.ID)
		}
		in.Outcome = Pending
	case Canceled, "": // canceled, requires_capture (we never ask for manual capture)
		return Intent{}, fmt.Errorf("payment: PaymentIntent %s has unexpected status %q", pi.ID, pi.Status)
	}
	return in, nil
}

// outcomeOf is the one reading of a PaymentIntent's status: "" for requires_capture.
func outcomeOf(pi *stripe.PaymentIntent) Outcome {
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		return Succeeded
	case stripe.PaymentIntentStatusRequiresAction, stripe.PaymentIntentStatusRequiresConfirmation:
		return RequiresAction
	case stripe.PaymentIntentStatusProcessing:
		return Pending
	case stripe.PaymentIntentStatusCanceled:
		return Canceled
	case stripe.PaymentIntentStatusRequiresPaymentMethod:
		if pi.LastPaymentError != nil {
			return Failed
		}
		return Pending
	}
	return ""
}

func declined(e *stripe.Error, intentID string) *DeclinedError {
	if intentID == "" && e.PaymentIntent != nil {
		intentID = e.PaymentIntent.ID
	}
	code := string(e.Code)
	if code == "" {
		code = string(stripe.ErrorCodeCardDeclined)
	}
	return &DeclinedError{IntentID: intentID, Code: code, DeclineCode: string(e.DeclineCode), Message: e.Msg}
}

// stripeError classifies an error of stripe-go; see CreatePayment.
func stripeError(err error) error {
	var se *stripe.Error
	if !errors.As(err, &se) {
		// Transport failures, timeouts, cancellation, bodies that are not Stripe errors (a
		// proxy's 502 page): what happened is unknown, a retry with the same key is safe.
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	status := se.HTTPStatusCode
	switch {
	case se.Type == stripe.ErrorTypeCard || se.Code == stripe.ErrorCodeCardDeclined:
		return declined(se, "")
	case status >= 500 && se.LastResponse != nil && se.LastResponse.Header.Get("Idempotent-Replayed") == "true":
		return fmt.Errorf("%w: stripe answered %d %s %s: %s (request %s)",
			ErrReplayedFailure, status, se.Type, se.Code, se.Msg, se.RequestID)
	case status == 0, status >= 500, status == http.StatusTooManyRequests, status == http.StatusConflict:
		return fmt.Errorf("%w: stripe answered %d %s %s: %s (request %s)",
			ErrUnavailable, status, se.Type, se.Code, se.Msg, se.RequestID)
	default:
		return &RejectedError{StatusCode: status, Type: string(se.Type), Code: string(se.Code),
			Param: se.Param, Message: se.Msg, RequestID: se.RequestID}
	}
}

// slogLeveled adapts slog to stripe-go's LeveledLoggerInterface.
type slogLeveled struct{ l *slog.Logger }

func (s slogLeveled) Debugf(format string, v ...any) { s.l.Debug(fmt.Sprintf(format, v...)) }
func (s slogLeveled) Infof(format string, v ...any)  { s.l.Debug(fmt.Sprintf(format, v...)) }
func (s slogLeveled) Warnf(format string, v ...any)  { s.l.Warn(fmt.Sprintf(format, v...)) }
func (s slogLeveled) Errorf(format string, v ...any) { s.l.Error(fmt.Sprintf(format, v...)) }
