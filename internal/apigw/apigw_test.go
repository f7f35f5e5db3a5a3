package apigw_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/checkout-idem/checkout/internal/apigw"
)

func TestPrincipal(t *testing.T) {
	tests := []struct {
		name string
		auth *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
		want string
	}{
		{"no authorizer is anonymous", nil, ""},
		{"a JWT authorizer yields issuer and subject", &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"iss": "https://idp", "sub": "u1"}}}, "jwt:https://idp|u1"},
		{"an IAM authorizer yields the caller ARN", &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{UserARN: "arn:aws:iam::1:user/a"}}, "iam:arn:aws:iam::1:user/a"},
		{"a Lambda authorizer yields its principalId", &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			Lambda: map[string]any{"principalId": "p-7"}}, "lambda:p-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/checkout",
				RequestContext: events.APIGatewayV2HTTPRequestContext{Authorizer: tt.auth,
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/checkout"}}}
			var acc core.RequestAccessorV2
			r, err := acc.EventToRequestWithContext(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := apigw.Principal(r); got != tt.want {
				t.Fatalf("Principal = %q, want %q", got, tt.want)
			}
		})
	}
	if got := apigw.Principal(&http.Request{}); got != "" {
		t.Fatalf("outside Lambda: %q", got)
	}
}
