package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBootstrapsLinkNoSDKConfig: the Lambda bootstraps build their clients from the Lambda
// environment; the SDK's config package would link the SSO, STS and sign-in clients, whose 17
// package initialisers ran on every cold start (about 1 ms and 330 KB of arm64 bootstrap).
func TestBootstrapsLinkNoSDKConfig(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", "lambda.norpc,production", "-deps",
		"../../functions/checkout", "../../functions/webhook", "../../functions/reconciler").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/service/sso", "github.com/aws/aws-sdk-go-v2/service/sts"} {
			if pkg == banned || strings.HasPrefix(pkg, banned+"/") {
				t.Errorf("a bootstrap links %s", pkg)
			}
		}
	}
}
