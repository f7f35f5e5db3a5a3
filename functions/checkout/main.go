// Command checkout is the Lambda function of POST /checkout and GET /orders/{id}: configuration
// from the environment, dependencies built once per container, then the checkout handler behind
// the API Gateway HTTP API (payload 2.0) adapter.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/checkout-idem/checkout/internal/apigw"
	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/config"
)

func main() {
	h, err := newHandler(context.Background(), os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkout:", err)
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}

func newHandler(ctx context.Context, log io.Writer) (http.Handler, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	deps := app.LoadLambda(cfg, log)
	if deps.Payments, deps.Provider, err = app.NewPayments(cfg, deps.Logger); err != nil {
		return nil, err
	}
	deps.Logger.Info("checkout function ready", "storage", deps.Storage, "payments", deps.Provider)
	return deps.Checkout(apigw.Principal), nil
}
