package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/secrets"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// ErrNoProvider fails the init of a Lambda function that was given no payment provider: it
// must never fall back to the local provider, which charges nothing.
var ErrNoProvider = errors.New("app: no payment provider configured")

// LambdaPayments returns the payment provider of a Lambda function, failing closed: the local
// provider only when PAYMENT_PROVIDER=local says so; otherwise Stripe with STRIPE_SECRET_KEY,
// or with the key read from Secrets Manager (STRIPE_SECRET_KEY_ARN, through from), re-read
// after SECRETS_MAX_AGE and when Stripe refuses it as unauthorized; with neither, an error
// naming the settings.
func LambdaPayments(ctx context.Context, cfg config.Config, log *slog.Logger, from secrets.Fetcher) (payment.Provider, string, error) {
	switch {
	case cfg.PaymentProvider == config.ProviderLocal:
		return payment.NewLocal(), "local (" + config.EnvPaymentProvider + "=local: nothing is charged)", nil
	case cfg.StripeSecretKey != "":
		return NewPayments(cfg, log)
	case cfg.StripeSecretKeyARN != "":
		key, err := secrets.Load(ctx, from, cfg.StripeSecretKeyARN, secretOptions(cfg, log))
		if err != nil {
			return nil, "", fmt.Errorf("app: %s: %w", config.EnvStripeSecretKeyARN, err)
		}
		p := &stripeFromSecret{key: key, base: cfg.StripeAPIBase, log: log}
		if _, err := p.current(ctx); err != nil {
			return nil, "", err
		}
		return p, "stripe (key from Secrets Manager)", nil
	}
	return nil, "", fmt.Errorf("%w: set %s (or %s), or %s=%s for a demo stack that charges nothing",
		ErrNoProvider, config.EnvStripeSecretKeyARN, config.EnvStripeSecretKey, config.EnvPaymentProvider, config.ProviderLocal)
}

func secretOptions(cfg config.Config, log *slog.Logger) secrets.Options {
	return secrets.Options{MaxAge: cfg.SecretsMaxAge, Logger: log}
}

// stripeFromSecret is the Stripe provider on a key kept in Secrets Manager: it rebuilds its
// client when the cached key changes.
type stripeFromSecret struct {
	key  *secrets.Value
	base string
	log  *slog.Logger

	mu     sync.Mutex
	p      *payment.Stripe
	forKey string
}

var _ payment.Reverser = (*stripeFromSecret)(nil)

func (s *stripeFromSecret) current(ctx context.Context) (*payment.Stripe, error) {
	k := s.key.Get(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil || k != s.forKey {
		p, err := payment.NewStripe(k, s.base, payment.WithLogger(s.log))
		if err != nil {
			return nil, fmt.Errorf("app: %s: %w", config.EnvStripeSecretKeyARN, err)
		}
		s.p, s.forKey = p, k
	}
	return s.p, nil
}

// CreatePayment calls Stripe with the current key. If Stripe answers 401 (a rolled key), it
// re-reads the key (rate-limited) and, when it changed, retries once with the same
// idempotency key, which Stripe deduplicates.
func (s *stripeFromSecret) CreatePayment(ctx context.Context, req payment.Request) (payment.Intent, error) {
	p, err := s.current(ctx)
	if err != nil {
		return payment.Intent{}, fmt.Errorf("%w: %w", payment.ErrUnavailable, err)
	}
	in, err := p.CreatePayment(ctx, req)
	if s.rolled(ctx, err) {
		if p, err2 := s.current(ctx); err2 == nil {
			return p.CreatePayment(ctx, req)
		}
	}
	return in, err
}

// Cancel calls Stripe with the current key, re-read and retried once with the same idempotency
// key after a 401, as CreatePayment.
func (s *stripeFromSecret) Cancel(ctx context.Context, intentID, key string) (payment.Intent, error) {
	p, err := s.current(ctx)
	if err != nil {
		return payment.Intent{}, fmt.Errorf("%w: %w", payment.ErrUnavailable, err)
	}
	in, err := p.Cancel(ctx, intentID, key)
	if s.rolled(ctx, err) {
		if p, err2 := s.current(ctx); err2 == nil {
			return p.Cancel(ctx, intentID, key)
		}
	}
	return in, err
}

// Refund calls Stripe with the current key, re-read and retried once with the same idempotency
// key after a 401, as CreatePayment.
func (s *stripeFromSecret) Refund(ctx context.Context, intentID string, amount int64, key string) (string, error) {
	p, err := s.current(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %w", payment.ErrUnavailable, err)
	}
	id, err := p.Refund(ctx, intentID, amount, key)
	if s.rolled(ctx, err) {
		if p, err2 := s.current(ctx); err2 == nil {
			return p.Refund(ctx, intentID, amount, key)
		}
	}
	return id, err
}

// rolled reports whether err is Stripe's 401 and the key, re-read (rate-limited), changed.
func (s *stripeFromSecret) rolled(ctx context.Context, err error) bool {
	var rej *payment.RejectedError
	return errors.As(err, &rej) && rej.StatusCode == http.StatusUnauthorized && s.key.Refresh(ctx)
}

// Retrieve calls Stripe with the current key.
func (s *stripeFromSecret) Retrieve(ctx context.Context, intentID string) (payment.Intent, error) {
	p, err := s.current(ctx)
	if err != nil {
		return payment.Intent{}, fmt.Errorf("%w: %w", payment.ErrUnavailable, err)
	}
	return p.Retrieve(ctx, intentID)
}

// FindByOrder calls Stripe with the current key.
func (s *stripeFromSecret) FindByOrder(ctx context.Context, orderID string) (*payment.Intent, error) {
	p, err := s.current(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", payment.ErrUnavailable, err)
	}
	return p.FindByOrder(ctx, orderID)
}

// LambdaVerifiers returns the webhook verifiers of a Lambda function: from the plain variables
// when set (sam local, tests), else from the Secrets Manager secrets their _ARN variables name,
// read now and re-read after SECRETS_MAX_AGE or when a delivery matches none of the secrets.
func LambdaVerifiers(ctx context.Context, cfg config.Config, log *slog.Logger, from secrets.Fetcher) (stripe, standard webhook.Verifier, err error) {
	if stripe, standard, err = Verifiers(cfg); err != nil {
		return nil, nil, err
	}
	load := func(name, arn string, build func([]string, time.Duration) (webhook.Verifier, error)) (webhook.Verifier, error) {
		v, err := secrets.Load(ctx, from, arn, secretOptions(cfg, log))
		if err != nil {
			return nil, fmt.Errorf("app: %s: %w", name, err)
		}
		r := &verifierFromSecret{secret: v, log: log, build: func(s []string) (webhook.Verifier, error) {
			return build(s, cfg.WebhookTolerance)
		}}
		if _, err := r.current(ctx); err != nil {
			return nil, fmt.Errorf("app: %s: %w", name, err)
		}
		return r, nil
	}
	if stripe == nil && cfg.StripeWebhookSecretARN != "" {
		if stripe, err = load(config.EnvStripeWebhookSecretARN, cfg.StripeWebhookSecretARN, func(s []string, tol time.Duration) (webhook.Verifier, error) {
			return webhook.NewStripeVerifier(s, tol)
		}); err != nil {
			return nil, nil, err
		}
	}
	if standard == nil && cfg.StandardWebhookSecretARN != "" {
		if standard, err = load(config.EnvStandardWebhookSecretARN, cfg.StandardWebhookSecretARN, func(s []string, tol time.Duration) (webhook.Verifier, error) {
			return webhook.NewStandardVerifier(s, tol)
		}); err != nil {
			return nil, nil, err
		}
	}
	return stripe, standard, nil
}

// verifierFromSecret verifies with the secrets a Secrets Manager secret currently holds.
type verifierFromSecret struct {
	secret *secrets.Value
	build  func([]string) (webhook.Verifier, error)
	log    *slog.Logger

	mu     sync.Mutex
	v      webhook.Verifier
	forVal string
}

// current returns the verifier of the cached value, rebuilt when the value changed; a new value
// that is not a valid list of secrets is logged and the previous verifier kept.
func (r *verifierFromSecret) current(ctx context.Context) (webhook.Verifier, error) {
	val := r.secret.Get(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.v == nil || val != r.forVal {
		v, err := r.build(config.List(val))
		if err != nil && r.v == nil {
			return nil, err
		}
		r.forVal = val // an invalid value is logged once, not rebuilt for every delivery
		if err != nil {
			r.log.ErrorContext(ctx, "rotated webhook secret is invalid, keeping the previous one", "error", err.Error())
			return r.v, nil
		}
		r.v = v
	}
	return r.v, nil
}

// Verify verifies with the current secrets; when no signature matches, the secret may have
// been rotated: it is re-read (at most once per secrets.DefaultMinInterval) and, if it
// changed, the delivery is verified again.
func (r *verifierFromSecret) Verify(h http.Header, body []byte, now time.Time) (webhook.Delivery, error) {
	ctx := context.Background()
	v, err := r.current(ctx)
	if err != nil {
		return webhook.Delivery{}, err
	}
	d, err := v.Verify(h, body, now)
	if errors.Is(err, webhook.ErrBadSignature) && r.secret.Refresh(ctx) {
		if v, err2 := r.current(ctx); err2 == nil {
			return v.Verify(h, body, now)
		}
	}
	return d, err
}
