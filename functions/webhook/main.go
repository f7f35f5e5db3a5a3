// Command webhook is the Lambda function behind POST /webhooks: it verifies Stripe and Standard
// Webhooks deliveries, deduplicates them by event id and applies them to orders (see package
// internal/webhook). This file only wires configuration into the handler.
package main

import (
	"context"
	"io"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/secrets"
)

func main() {
	cfg, err := config.FromEnv()
	if err != nil {
		exit(err)
	}
	handler, err := newHandler(context.Background(), cfg, os.Stdout)
	if err != nil {
		exit(err)
	}
	lambda.Start(httpadapter.NewV2(handler).ProxyWithContext)
}

func exit(err error) { app.Exit("webhook", err) }

// newHandler builds the handler and its dependencies once, at init: the DynamoDB stores and one
// verifier per configured scheme, its secrets read from Secrets Manager (or given directly). An
// invalid or unreadable secret is an error; no secret at all is logged as one, and every
// delivery is then refused with 400 until one is configured.
// optFns are passed to the DynamoDB client (tests record its calls).
func newHandler(ctx context.Context, cfg config.Config, log io.Writer, optFns ...func(*dynamodb.Options)) (http.Handler, error) {
	deps, err := app.LoadLambda(cfg, log, optFns...)
	if err != nil {
		return nil, err
	}
	stripe, standard, err := app.LambdaVerifiers(ctx, cfg, deps.Logger, secrets.NewLambdaClient())
	if err != nil {
		return nil, err
	}
	h := deps.WebhookWith(stripe, standard)
	deps.Logger.Info("webhook function started", "storage", deps.Storage,
		"stripe", stripe != nil, "standard", standard != nil,
		"tolerance", cfg.WebhookTolerance.String(), "ttl", app.WebhookTTL(cfg).String())
	return h, nil
}
