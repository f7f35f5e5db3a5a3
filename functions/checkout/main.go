// Command checkout is the Lambda function of POST /checkout, GET /orders/{id} and GET
// /products[/{sku}]: configuration from the environment, secrets from Secrets Manager,
// dependencies built once per container, then the checkout handler behind the API Gateway HTTP
// API (payload 2.0) adapter.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/checkout-idem/checkout/internal/app"
)

func main() {
	h, err := app.CheckoutHandler(context.Background(), os.Stdout)
	if err != nil {
		app.Exit("checkout", err) // no request is served without a provider
	}
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
