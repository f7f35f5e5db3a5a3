package samtemplate

import (
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation/serverless"

	"github.com/checkout-idem/checkout/internal/config"
)

func TestEnvironmentIsExactlyWhatEachFunctionReads(t *testing.T) {
	tmpl := open(t)
	fns := functions(t, tmpl)
	for _, f := range Functions {
		t.Run(f.Name, func(t *testing.T) {
			vars := env(t, tmpl, fns[f.Name])
			want := append(slices.Clone(SharedEnv), f.Env...)
			got := slices.Sorted(maps.Keys(vars))
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("declares %v, want exactly %v (SharedEnv and its row's env)", got, want)
			}
			for k, v := range vars {
				if plainSecret.MatchString(v) || strings.Contains(v, "{{resolve:") {
					t.Errorf("%s = %q: a secret value or a dynamic reference (resolved into the function's configuration, readable by lambda:GetFunctionConfiguration)", k, v)
				}
				if slices.Contains(secretEnv, k) && v != "" {
					t.Errorf("%s = %q, want declared empty (only sam local sets it); deployed functions read the secret by ARN", k, v)
				}
			}
			for arnVar, param := range f.Secrets {
				if vars[arnVar] != "!Ref "+param {
					t.Errorf("%s = %q, want !Ref %s", arnVar, vars[arnVar], param)
				}
			}
			// sam local --env-vars only overrides declared variables: the endpoint must be declared, empty.
			if v, ok := vars[config.EnvDynamoDBEndpoint]; !ok || v != "" {
				t.Errorf("%s = %q (declared %v), want declared and empty", config.EnvDynamoDBEndpoint, v, ok)
			}
		})
	}
	if v := env(t, tmpl, fns["CheckoutFunction"])[config.EnvPaymentProvider]; v != config.ProviderStripe {
		t.Errorf("%s defaults to %q, want %s (the local provider only when chosen)", config.EnvPaymentProvider, v, config.ProviderStripe)
	}
	p := tmpl.Parameters["PaymentProvider"]
	if p.Default != config.ProviderStripe || !slices.Equal(strs(anySlice(p.AllowedValues)), []string{config.ProviderStripe, config.ProviderLocal}) {
		t.Errorf("PaymentProvider: default %v, allowed %v; want stripe of [stripe local]", p.Default, p.AllowedValues)
	}
}

func anySlice(v []interface{}) interface{} { return v }

// grants reads a function's inline policies: DynamoDB actions per table (logical id, or
// "<Table>/index/<name>") and the parameters whose secrets it may read.
func grants(t *testing.T, fn *serverless.Function) (tables map[string][]string, secrets []string) {
	t.Helper()
	if fn.Role != nil {
		t.Fatalf("Role = %q: let SAM create the role from Policies", *fn.Role)
	}
	if fn.Policies == nil || fn.Policies.IAMPolicyDocumentArray == nil {
		t.Fatalf("Policies = %+v, want a list of inline policy documents", fn.Policies)
	}
	tables = map[string][]string{}
	for _, doc := range *fn.Policies.IAMPolicyDocumentArray {
		for _, s := range doc.Statement {
			if s == nil {
				continue // an !If branch that is AWS::NoValue
			}
			st, ok := s.(map[string]interface{})
			if !ok {
				t.Fatalf("statement %v is not an object", s)
			}
			if st["Effect"] != "Allow" || st["Condition"] != nil || st["NotAction"] != nil || st["NotResource"] != nil {
				t.Errorf("statement %v: want plain Allow statements only", st)
				continue
			}
			actions, resources := strs(st["Action"]), strs(st["Resource"])
			if len(resources) == 0 {
				t.Errorf("statement %v has no Resource", st)
			}
			for _, r := range resources {
				if strings.Contains(r, "*") {
					t.Errorf("Resource %q: no wildcards", r)
					continue
				}
				if param, ok := strings.CutPrefix(r, "!Ref "); ok {
					if !slices.Equal(actions, []string{"secretsmanager:GetSecretValue"}) {
						t.Errorf("on secret %s: %v, want only secretsmanager:GetSecretValue", param, actions)
					}
					secrets = append(secrets, param)
					continue
				}
				tbl, ok := tableOf(r)
				if !ok {
					t.Errorf("Resource %q, want !GetAtt <Table>.Arn, !Sub ${<Table>.Arn}/index/<name> or !Ref <secret ARN parameter>", r)
					continue
				}
				for _, a := range actions {
					if !strings.HasPrefix(a, "dynamodb:") {
						t.Errorf("%s on table %s", a, tbl)
					}
					tables[tbl] = append(tables[tbl], a)
				}
			}
		}
	}
	return tables, secrets
}

// tableOf names the table (or table index) a rendered Resource points at.
func tableOf(r string) (string, bool) {
	if s, ok := strings.CutPrefix(r, "!GetAtt "); ok {
		return strings.CutSuffix(s, ".Arn")
	}
	if s, ok := strings.CutPrefix(r, "!Sub ${"); ok {
		tbl, index, ok := strings.Cut(s, ".Arn}/index/")
		return tbl + "/index/" + index, ok && index != ""
	}
	return "", false
}

func TestPoliciesGrantExactlyWhatTheCodeUses(t *testing.T) {
	for _, branch := range []int{allOn, allOff} {
		tmpl := openWith(t, branch)
		fns := functions(t, tmpl)
		for _, f := range Functions {
			t.Run(f.Name, func(t *testing.T) {
				tables, secrets := grants(t, fns[f.Name])
				for tbl := range mergeKeys(tables, f.Uses) {
					got, want := sortedSet(tables[tbl]), sortedSet(f.Uses[tbl])
					if !slices.Equal(got, want) {
						t.Errorf("on %s: granted %v, used %v (an unused grant or a missing one)", tbl, got, want)
					}
				}
				var want []string
				if branch == allOn {
					want = slices.Collect(maps.Values(f.Secrets))
				}
				if got := sortedSet(secrets); !slices.Equal(got, sortedSet(want)) {
					t.Errorf("may read the secrets of %v, want exactly %v", got, sortedSet(want))
				}
			})
		}
	}
}

func TestSecretParametersAreArnsOrHidden(t *testing.T) {
	tmpl := open(t)
	for name, p := range tmpl.Parameters {
		if !regexp.MustCompile(`(?i)secret|key|token|password`).MatchString(name) {
			continue
		}
		isArn := strings.HasSuffix(name, "Arn") // names a Secrets Manager secret: not itself secret
		if !isArn && (p.NoEcho == nil || !*p.NoEcho) {
			t.Errorf("parameter %s looks like a secret: make it the ARN of a Secrets Manager secret (…Arn) or set NoEcho", name)
		}
		if isArn && (p.AllowedPattern == nil || !strings.Contains(*p.AllowedPattern, "secretsmanager")) {
			t.Errorf("parameter %s: want an AllowedPattern that only admits Secrets Manager ARNs", name)
		}
		if d, ok := p.Default.(string); ok && plainSecret.MatchString(d) {
			t.Errorf("parameter %s defaults to what looks like a secret", name)
		}
	}
	for _, f := range Functions {
		for _, param := range f.Secrets {
			if _, ok := tmpl.Parameters[param]; !ok {
				t.Errorf("%s reads the secret of parameter %s, which the template does not declare", f.Name, param)
			}
		}
	}
}

func mergeKeys(a, b map[string][]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func sortedSet(ss []string) []string {
	out := slices.Clone(ss)
	sort.Strings(out)
	return slices.Compact(out)
}
