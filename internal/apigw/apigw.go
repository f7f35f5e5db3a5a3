// Package apigw reads what API Gateway tells a Lambda about a request, through the context the
// aws-lambda-go-api-proxy adapter attaches, so handlers never see an AWS event type.
package apigw

import (
	"fmt"
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// Principal returns the caller's identity from the HTTP API authorizer: the JWT's issuer and
// subject, the IAM caller's ARN, or a Lambda authorizer's principalId. It returns "" for
// unauthenticated routes and outside Lambda (the local server), where every caller shares one
// key space.
func Principal(r *http.Request) string {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil {
		return ""
	}
	a := rc.Authorizer
	switch {
	case a.JWT != nil && a.JWT.Claims["sub"] != "":
		return "jwt:" + a.JWT.Claims["iss"] + "|" + a.JWT.Claims["sub"]
	case a.IAM != nil && a.IAM.UserARN != "":
		return "iam:" + a.IAM.UserARN
	case a.Lambda != nil:
		for _, k := range []string{"principalId", "sub", "user_id"} {
			if v, ok := a.Lambda[k]; ok && v != nil {
				return "lambda:" + fmt.Sprint(v)
			}
		}
	}
	return ""
}
