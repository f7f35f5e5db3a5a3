// Package config reads the environment shared by the Lambda functions and the local server.
// The names here are the only place they are spelled; template.yaml declares the same names,
// and a test keeps the two in agreement.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variable names.
const (
	EnvIdempotencyTable      = "IDEMPOTENCY_TABLE"       // default checkout-idempotency
	EnvOrdersTable           = "ORDERS_TABLE"            // default checkout-orders
	EnvCatalogTable          = "CATALOG_TABLE"           // default checkout-catalog
	EnvIdempotencyTTL        = "IDEMPOTENCY_TTL"         // Go duration, default 24h
	EnvIdempotencyWait       = "IDEMPOTENCY_WAIT"        // Go duration, default 5s
	EnvDynamoDBEndpoint      = "DYNAMODB_ENDPOINT"       // DynamoDB Local; AWS_ENDPOINT_URL_DYNAMODB also works
	EnvPaymentProvider       = "PAYMENT_PROVIDER"        // stripe or local; empty: stripe if a key is set
	EnvStripeSecretKey       = "STRIPE_SECRET_KEY"       // the key itself (local server, sam local, tests)
	EnvStripeSecretKeyARN    = "STRIPE_SECRET_KEY_ARN"   // Secrets Manager secret holding the key (Lambda)
	EnvStripeAPIBase         = "STRIPE_API_BASE"         // e.g. stripe-mock's URL
	EnvStripeWebhookSecret   = "STRIPE_WEBHOOK_SECRET"   // comma-separated whsec_ secrets (rotation)
	EnvStandardWebhookSecret = "STANDARD_WEBHOOK_SECRET" // comma-separated whsec_ secrets
	// The ARNs of Secrets Manager secrets holding the same comma-separated lists (Lambda).
	EnvStripeWebhookSecretARN   = "STRIPE_WEBHOOK_SECRET_ARN"
	EnvStandardWebhookSecretARN = "STANDARD_WEBHOOK_SECRET_ARN"
	EnvSecretsMaxAge            = "SECRETS_MAX_AGE"   // Go duration, default 5m: how stale a cached secret may be
	EnvWebhookTolerance         = "WEBHOOK_TOLERANCE" // Go duration, default 5m
	EnvLogLevel                 = "LOG_LEVEL"         // debug, info (default), warn, error
	EnvPort                     = "PORT"              // local server only, default 3000
	EnvReconcileAfter           = "RECONCILE_AFTER"   // Go duration, default 10m: when an open order counts as stuck
	EnvReconcileLimit           = "RECONCILE_LIMIT"   // orders per reconciler run, default 100
	// Go duration, default 30m: how long an order waits in requires_action for its buyer.
	EnvReconcileActionTimeout = "RECONCILE_ACTION_TIMEOUT"
)

// Payment providers, the values of PAYMENT_PROVIDER.
const (
	ProviderStripe = "stripe"
	ProviderLocal  = "local" // in-memory, charges nothing: demos and tests only
)

// Config is the whole environment, parsed.
type Config struct {
	IdempotencyTable       string
	OrdersTable            string
	CatalogTable           string
	IdempotencyTTL         time.Duration
	IdempotencyWait        time.Duration
	DynamoDBEndpoint       string
	PaymentProvider        string // "", ProviderStripe or ProviderLocal
	StripeSecretKey        string
	StripeSecretKeyARN     string
	StripeAPIBase          string
	StripeWebhookSecrets   []string
	StandardWebhookSecrets []string
	// Secret ARNs: each is read from Secrets Manager when its plain variable above is empty.
	StripeWebhookSecretARN, StandardWebhookSecretARN string
	SecretsMaxAge                                    time.Duration
	WebhookTolerance                                 time.Duration
	LogLevel                                         string
	Port                                             string
	ReconcileAfter, ReconcileActionTimeout           time.Duration
	ReconcileLimit                                   int
}

// FromEnv reads the configuration; it fails on values it cannot parse rather than guessing.
func FromEnv() (Config, error) {
	c := Config{
		IdempotencyTable:         get(EnvIdempotencyTable, "checkout-idempotency"),
		OrdersTable:              get(EnvOrdersTable, "checkout-orders"),
		CatalogTable:             get(EnvCatalogTable, "checkout-catalog"),
		DynamoDBEndpoint:         os.Getenv(EnvDynamoDBEndpoint),
		PaymentProvider:          strings.TrimSpace(os.Getenv(EnvPaymentProvider)),
		StripeSecretKey:          os.Getenv(EnvStripeSecretKey),
		StripeSecretKeyARN:       strings.TrimSpace(os.Getenv(EnvStripeSecretKeyARN)),
		StripeAPIBase:            os.Getenv(EnvStripeAPIBase),
		StripeWebhookSecrets:     List(os.Getenv(EnvStripeWebhookSecret)),
		StandardWebhookSecrets:   List(os.Getenv(EnvStandardWebhookSecret)),
		StripeWebhookSecretARN:   strings.TrimSpace(os.Getenv(EnvStripeWebhookSecretARN)),
		StandardWebhookSecretARN: strings.TrimSpace(os.Getenv(EnvStandardWebhookSecretARN)),
		LogLevel:                 get(EnvLogLevel, "info"),
		Port:                     get(EnvPort, "3000"),
	}
	if c.DynamoDBEndpoint == "" {
		c.DynamoDBEndpoint = os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	}
	switch c.PaymentProvider {
	case "", ProviderStripe, ProviderLocal:
	default:
		return c, fmt.Errorf("config: %s=%q: want %s or %s", EnvPaymentProvider, c.PaymentProvider, ProviderStripe, ProviderLocal)
	}
	var err error
	if c.SecretsMaxAge, err = duration(EnvSecretsMaxAge, 5*time.Minute); err != nil {
		return c, err
	}
	if c.IdempotencyTTL, err = duration(EnvIdempotencyTTL, 24*time.Hour); err != nil {
		return c, err
	}
	if c.IdempotencyWait, err = duration(EnvIdempotencyWait, 5*time.Second); err != nil {
		return c, err
	}
	if c.WebhookTolerance, err = duration(EnvWebhookTolerance, 5*time.Minute); err != nil {
		return c, err
	}
	if c.ReconcileAfter, err = duration(EnvReconcileAfter, 10*time.Minute); err != nil {
		return c, err
	}
	if c.ReconcileActionTimeout, err = duration(EnvReconcileActionTimeout, 30*time.Minute); err != nil {
		return c, err
	}
	if v := strings.TrimSpace(os.Getenv(EnvReconcileLimit)); v != "" {
		if c.ReconcileLimit, err = strconv.Atoi(v); err != nil || c.ReconcileLimit <= 0 || c.ReconcileLimit > 1000 {
			return c, fmt.Errorf("config: %s=%q: want a whole number from 1 to 1000", EnvReconcileLimit, v)
		}
	} else {
		c.ReconcileLimit = 100
	}
	return c, nil
}

func get(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// List splits a comma-separated list of secrets (rotation: several live at once), dropping
// spaces and empty entries; the secrets read from Secrets Manager take the same form.
func List(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func duration(name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("config: %s=%q: want a positive Go duration such as 24h", name, v)
	}
	return d, nil
}
