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
	EnvIdempotencyTTL        = "IDEMPOTENCY_TTL"         // Go duration, default 24h
	EnvIdempotencyWait       = "IDEMPOTENCY_WAIT"        // Go duration, default 5s
	EnvDynamoDBEndpoint      = "DYNAMODB_ENDPOINT"       // DynamoDB Local; AWS_ENDPOINT_URL_DYNAMODB also works
	EnvStripeSecretKey       = "STRIPE_SECRET_KEY"       // selects Stripe; empty: the local provider
	EnvStripeAPIBase         = "STRIPE_API_BASE"         // e.g. stripe-mock's URL
	EnvStripeWebhookSecret   = "STRIPE_WEBHOOK_SECRET"   // comma-separated whsec_ secrets (rotation)
	EnvStandardWebhookSecret = "STANDARD_WEBHOOK_SECRET" // comma-separated whsec_ secrets
	EnvWebhookTolerance      = "WEBHOOK_TOLERANCE"       // Go duration, default 5m
	EnvLogLevel              = "LOG_LEVEL"               // debug, info (default), warn, error
	EnvReconcileAfter        = "RECONCILE_AFTER"         // Go duration, default 10m: when an open order counts as stuck
	EnvReconcileLimit        = "RECONCILE_LIMIT"         // orders per reconciler run, default 100
	EnvPort                  = "PORT"                    // local server only, default 3000
)

// Config is the whole environment, parsed.
type Config struct {
	IdempotencyTable       string
	OrdersTable            string
	IdempotencyTTL         time.Duration
	IdempotencyWait        time.Duration
	DynamoDBEndpoint       string
	StripeSecretKey        string
	StripeAPIBase          string
	StripeWebhookSecrets   []string
	StandardWebhookSecrets []string
	WebhookTolerance       time.Duration
	LogLevel               string
	Port                   string
	ReconcileAfter         time.Duration
	ReconcileLimit         int
}

// FromEnv reads the configuration; it fails on values it cannot parse rather than guessing.
func FromEnv() (Config, error) {
	c := Config{
		IdempotencyTable:       get(EnvIdempotencyTable, "checkout-idempotency"),
		OrdersTable:            get(EnvOrdersTable, "checkout-orders"),
		DynamoDBEndpoint:       os.Getenv(EnvDynamoDBEndpoint),
		StripeSecretKey:        os.Getenv(EnvStripeSecretKey),
		StripeAPIBase:          os.Getenv(EnvStripeAPIBase),
		StripeWebhookSecrets:   list(os.Getenv(EnvStripeWebhookSecret)),
		StandardWebhookSecrets: list(os.Getenv(EnvStandardWebhookSecret)),
		LogLevel:               get(EnvLogLevel, "info"),
		Port:                   get(EnvPort, "3000"),
	}
	if c.DynamoDBEndpoint == "" {
		c.DynamoDBEndpoint = os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	}
	var err error
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

func list(v string) []string {
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
