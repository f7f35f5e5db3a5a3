package app

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/checkout-idem/checkout/internal/apigw"
	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// CatalogTTL is how long a checkout container prices from the products it read: a price change
// reaches checkouts within it. It is safe: the total is fixed in the order before the charge,
// and a buyer who sends the total shown gets 409 price-changed rather than another charge.
const CatalogTTL = 5 * time.Second

// Checkout returns the handler of POST /checkout, GET /orders/{id} and GET /products[/{sku}]
// over d; principal scopes idempotency keys by caller (nil: anonymous, as in the local server).
func (d *Deps) Checkout(principal func(*http.Request) string) http.Handler {
	co := checkout.New(checkout.Options{
		Catalog: catalog.NewCache(d.Catalog, CatalogTTL, time.Now),
		Orders:  d.Orders, Payments: d.Payments, Idem: d.Idem,
		TTL: d.Config.IdempotencyTTL, Wait: d.Config.IdempotencyWait,
		Principal: principal, Logger: d.Logger,
	})
	products := catalog.Handler(d.Catalog, d.Logger)
	mux := http.NewServeMux()
	mux.Handle("/products", products)
	mux.Handle("/products/", products)
	mux.Handle("/", co)
	return mux
}

// Webhook returns the handler of POST /webhooks over d, with the verifiers the configuration
// names. An invalid secret is an error; no secret at all is logged as one (or as
// d.NoWebhookSecretHint), and every delivery is then refused with 400 until one is configured.
func (d *Deps) Webhook() (http.Handler, error) {
	stripe, standard, err := Verifiers(d.Config)
	if err != nil {
		return nil, err
	}
	return d.WebhookWith(stripe, standard), nil
}

// WebhookWith returns the handler of POST /webhooks over d with the given verifiers (nil: that
// scheme is refused; both nil is logged as an error, or as d.NoWebhookSecretHint when set).
func (d *Deps) WebhookWith(stripe, standard webhook.Verifier) http.Handler {
	switch {
	case stripe != nil || standard != nil:
	case d.NoWebhookSecretHint != "":
		d.Logger.Info(d.NoWebhookSecretHint)
	default:
		d.Logger.Error("no webhook secret configured: every delivery will be refused with 400",
			"set", config.EnvStripeWebhookSecretARN+" or "+config.EnvStandardWebhookSecretARN+
				" (Lambda), "+config.EnvStripeWebhookSecret+" or "+config.EnvStandardWebhookSecret)
	}
	return webhook.NewHandler(webhook.Options{
		Stripe: stripe, Standard: standard, Orders: d.Orders, Idem: d.Idem,
		Wait: d.Config.IdempotencyWait, Logger: d.Logger,
		TTL: WebhookTTL(d.Config),
	})
}

// WebhookTTL is how long webhook deliveries are replayed: never less than the providers'
// redelivery window (webhook.DefaultTTL), even when IDEMPOTENCY_TTL is shorter for checkouts.
func WebhookTTL(cfg config.Config) time.Duration { return max(cfg.IdempotencyTTL, webhook.DefaultTTL) }

// CheckoutHandler is the checkout Lambda function's init: configuration from the environment,
// the DynamoDB stores and the payment provider, built once, and the handler. It fails closed:
// without a payment provider (a Stripe key, or PAYMENT_PROVIDER=local chosen explicitly) it
// returns ErrNoProvider rather than serve checkouts that charge nothing. optFns are passed to
// the DynamoDB client (tests and the benchmark record its calls).
func CheckoutHandler(ctx context.Context, log io.Writer, optFns ...func(*dynamodb.Options)) (http.Handler, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	deps, err := LoadLambdaPaying(ctx, cfg, log, optFns...)
	if err != nil {
		return nil, err
	}
	deps.Logger.Info("checkout function ready", "storage", deps.Storage, "payments", deps.Provider)
	return deps.Checkout(apigw.Principal), nil
}
