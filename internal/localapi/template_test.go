package localapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"

	"github.com/checkout-idem/checkout/internal/localapi"
)

// TestDefaultCORSIsTheTemplates keeps the local server's CORS rules those API Gateway applies
// to the deployed API (template.yaml, CheckoutApi's CorsConfiguration, AllowedOrigin's default).
func TestDefaultCORSIsTheTemplates(t *testing.T) {
	tmpl, err := goformation.Open("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	api, err := tmpl.GetApiGatewayV2ApiWithName("CheckoutApi")
	if err != nil || api.CorsConfiguration == nil {
		t.Fatalf("CheckoutApi CorsConfiguration: %v", err)
	}
	c := api.CorsConfiguration
	lower := func(s []string) []string {
		out := make([]string, len(s))
		for i, v := range s {
			out[i] = strings.ToLower(v)
		}
		return out
	}
	want := localapi.DefaultCORS()
	origin := tmpl.Parameters["AllowedOrigin"].Default
	if !slices.Equal(c.AllowMethods, want.AllowMethods) || !slices.Equal(lower(c.AllowHeaders), want.AllowHeaders) ||
		!slices.Equal(lower(c.ExposeHeaders), want.ExposeHeaders) || c.MaxAge == nil || *c.MaxAge != want.MaxAge ||
		origin != "*" || !slices.Equal(want.AllowOrigins, []string{"*"}) {
		t.Fatalf("template: methods %v headers %v expose %v max-age %v origin default %v; local: %+v",
			c.AllowMethods, c.AllowHeaders, c.ExposeHeaders, c.MaxAge, origin, want)
	}
}
