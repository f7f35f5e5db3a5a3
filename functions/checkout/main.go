// Command checkout is the Lambda function of POST /checkout and GET /orders/{id}: configuration
// from the environment, secrets from Secrets Manager, dependencies built once per container,
// then the checkout handler behind the API Gateway HTTP API (payload 2.0) adapter.
package main

import (
	"context"
	"io"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/checkout-idem/checkout/internal/apigw"
	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/secrets"
)

func main() {
	h, err := newHandler(context.Background(), os.Stdout)
	if err != nil {
		// The non-zero status fails the Lambda's init: no request is served without a provider.
		app.NewLogger(os.Stdout, "error").Error("checkout function cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}

// newHandler builds the handler and its dependencies once, at init. It fails closed: without
// a payment provider (a Stripe key, or PAYMENT_PROVIDER=local chosen explicitly) it returns
// app.ErrNoProvider rather than serving checkouts that charge nothing.
// optFns are passed to the DynamoDB client (tests record its calls).
func newHandler(ctx context.Context, log io.Writer, optFns ...func(*dynamodb.Options)) (http.Handler, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	deps, err := app.LoadLambda(cfg, log, optFns...)
	if err != nil {
		return nil, err
	}
	if deps.Payments, deps.Provider, err = app.LambdaPayments(ctx, cfg, deps.Logger, secrets.NewLambdaClient()); err != nil {
		return nil, err
	}
	deps.Logger.Info("checkout function ready", "storage", deps.Storage, "payments", deps.Provider)
	return deps.Checkout(apigw.Principal), nil
}
