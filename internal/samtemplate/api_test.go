package samtemplate

import (
	"slices"
	"strings"
	"testing"
)

// TestRoutesAndAuthorizer reads the HTTP API as deployed twice: with the JWT authorizer's
// parameters set (every condition true) and without (every condition false).
func TestRoutesAndAuthorizer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		branch int
	}{{"with JwtIssuer and JwtAudience", allOn}, {"without them", allOff}} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := openWith(t, tc.branch)
			got := map[string]string{}
			for id, r := range tmpl.GetAllApiGatewayV2RouteResources() {
				if r.ApiId != "!Ref CheckoutApi" {
					t.Errorf("%s: ApiId %q, want !Ref CheckoutApi", id, r.ApiId)
				}
				integration, ok := strings.CutPrefix(deref(r.Target), "!Sub integrations/${")
				integration, closed := strings.CutSuffix(integration, "}")
				if !ok || !closed {
					t.Errorf("%s: Target %q, want !Sub integrations/${<Integration>}", id, deref(r.Target))
					continue
				}
				in, err := tmpl.GetApiGatewayV2IntegrationWithName(integration)
				if err != nil {
					t.Errorf("%s: %v", id, err)
					continue
				}
				fn, isFn := strings.CutPrefix(deref(in.IntegrationUri), "!GetAtt ")
				fn, isArn := strings.CutSuffix(fn, ".Arn")
				if in.IntegrationType != "AWS_PROXY" || deref(in.PayloadFormatVersion) != "2.0" || !isFn || !isArn {
					t.Errorf("%s: %s %s %q, want AWS_PROXY 2.0 to !GetAtt <Function>.Arn", integration, in.IntegrationType,
						deref(in.PayloadFormatVersion), deref(in.IntegrationUri))
				}
				if prev, dup := got[r.RouteKey]; dup {
					t.Errorf("route %s served by %s and %s", r.RouteKey, prev, fn)
				}
				got[r.RouteKey] = fn

				authorized := deref(r.AuthorizationType) == "JWT" && deref(r.AuthorizerId) == "!Ref JwtAuthorizer"
				open := deref(r.AuthorizationType) == "NONE" && r.AuthorizerId == nil
				public := slices.Contains(PublicRoutes, r.RouteKey)
				switch {
				case public && !open:
					t.Errorf("%s: authorization %q %q: webhooks are authenticated by signature and the catalog is public, never behind the authorizer",
						r.RouteKey, deref(r.AuthorizationType), deref(r.AuthorizerId))
				case !public && tc.branch == allOn && !authorized:
					t.Errorf("%s: authorization %q %q, want JWT by !Ref JwtAuthorizer", r.RouteKey, deref(r.AuthorizationType), deref(r.AuthorizerId))
				case !public && tc.branch == allOff && !open:
					t.Errorf("%s: authorization %q, want NONE when no issuer is configured", r.RouteKey, deref(r.AuthorizationType))
				}
			}
			if !mapsEqual(got, routes()) {
				t.Errorf("routes = %v, want %v", got, routes())
			}
		})
	}
	tmpl := open(t)
	a, err := tmpl.GetApiGatewayV2AuthorizerWithName("JwtAuthorizer")
	if err != nil {
		t.Fatal(err)
	}
	if a.AWSCloudFormationCondition != "HasJwtAuthorizer" || a.AuthorizerType != "JWT" || a.JwtConfiguration == nil ||
		deref(a.JwtConfiguration.Issuer) != "!Ref JwtIssuer" || !slices.Equal(a.JwtConfiguration.Audience, []string{"!Ref JwtAudience"}) ||
		!slices.Equal(a.IdentitySource, []string{"$request.header.Authorization"}) {
		t.Errorf("JwtAuthorizer = %+v (condition %q), want JWT from the Authorization header, issuer and audience from the parameters, under HasJwtAuthorizer",
			a, a.AWSCloudFormationCondition)
	}
	for _, p := range []string{"JwtIssuer", "JwtAudience"} {
		if d := tmpl.Parameters[p].Default; d != "" {
			t.Errorf("parameter %s defaults to %v, want empty (no authorizer unless configured)", p, d)
		}
	}
}

func TestApiStage(t *testing.T) {
	tmpl := open(t)
	api, err := tmpl.GetApiGatewayV2ApiWithName("CheckoutApi")
	if err != nil {
		t.Fatal(err)
	}
	if deref(api.ProtocolType) != "HTTP" || api.CorsConfiguration == nil {
		t.Fatalf("CheckoutApi = %+v, want an HTTP API with CORS", api)
	}
	for _, h := range []string{"authorization", "content-type", "idempotency-key"} {
		if !slices.Contains(lower(api.CorsConfiguration.AllowHeaders), h) {
			t.Errorf("CORS AllowHeaders = %v, want %s (the browser page sends it)", api.CorsConfiguration.AllowHeaders, h)
		}
	}
	st, err := tmpl.GetApiGatewayV2StageWithName("CheckoutApiStage")
	if err != nil {
		t.Fatal(err)
	}
	if st.StageName != "$default" || !deref(st.AutoDeploy) || st.ApiId != "!Ref CheckoutApi" {
		t.Errorf("stage %q (auto deploy %v) of %s, want $default, auto-deployed, of CheckoutApi", st.StageName, deref(st.AutoDeploy), st.ApiId)
	}
	rs := st.DefaultRouteSettings
	if rs == nil || deref(rs.ThrottlingBurstLimit) <= 0 || deref(rs.ThrottlingRateLimit) <= 0 {
		t.Errorf("DefaultRouteSettings = %+v, want throttling limits", rs)
	}
	logs := st.AccessLogSettings
	if logs == nil || deref(logs.DestinationArn) != "!GetAtt ApiAccessLogGroup.Arn" ||
		!strings.Contains(deref(logs.Format), `"requestId":"$context.requestId"`) ||
		!strings.Contains(deref(logs.Format), `"status":"$context.status"`) {
		t.Errorf("AccessLogSettings = %+v, want JSON lines with the request id and status into ApiAccessLogGroup", logs)
	}
	if g, err := tmpl.GetLogsLogGroupWithName("ApiAccessLogGroup"); err != nil || g.RetentionInDays == nil {
		t.Errorf("ApiAccessLogGroup: %v, want a log group with a retention", err)
	}
	// API Gateway may invoke each routed function, from this API only.
	perms := tmpl.GetAllLambdaPermissionResources()
	for _, f := range Functions {
		if len(f.Routes) == 0 {
			continue
		}
		found := false
		for _, p := range perms {
			if p.FunctionName == "!Ref "+f.Name && p.Principal == "apigateway.amazonaws.com" && p.Action == "lambda:InvokeFunction" &&
				strings.Contains(deref(p.SourceArn), "${CheckoutApi}/") {
				found = true
			}
		}
		if !found {
			t.Errorf("no AWS::Lambda::Permission lets CheckoutApi invoke %s", f.Name)
		}
	}
}
