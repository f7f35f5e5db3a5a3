package samtemplate

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/config"
)

// section returns the body of one [table] of samconfig.toml.
func section(toml, name string) string {
	_, rest, ok := strings.Cut(toml, "["+name+"]\n")
	if !ok {
		return ""
	}
	body, _, _ := strings.Cut(rest, "\n[")
	return body
}

func TestSamconfigHasTheLocalDefaults(t *testing.T) {
	b, err := os.ReadFile("../../samconfig.toml")
	if err != nil {
		t.Fatal(err)
	}
	toml := string(b)
	var env map[string]map[string]string
	raw, err := os.ReadFile("../../env.json")
	if err != nil || json.Unmarshal(raw, &env) != nil {
		t.Fatalf("env.json: %v", err)
	}
	for name, vars := range env {
		if !strings.HasPrefix(vars[config.EnvDynamoDBEndpoint], "http://host.docker.internal:") {
			t.Errorf("env.json: %s reaches DynamoDB Local at %q, want host.docker.internal (mapped by samconfig.toml)", name, vars[config.EnvDynamoDBEndpoint])
		}
	}
	for _, cmd := range []string{"local_start_api", "local_invoke"} {
		s := section(toml, "default."+cmd+".parameters")
		if !strings.Contains(s, `env_vars = "env.json"`) {
			t.Errorf("[default.%s.parameters] does not use env.json", cmd)
		}
		if !strings.Contains(s, `"host.docker.internal:host-gateway"`) || !strings.Contains(s, "add_host") {
			t.Errorf("[default.%s.parameters] does not map host.docker.internal to the host (Linux)", cmd)
		}
	}
	port := regexp.MustCompile(`(?m)^port = (\d+)$`).FindStringSubmatch(section(toml, "default.local_start_api.parameters"))
	if port == nil || port[1] == "3000" {
		t.Errorf("sam local start-api port = %v, want one set and not make run's 3000", port)
	}
}
