package samtemplate

import (
	"slices"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation/cloudwatch"

	"github.com/checkout-idem/checkout/internal/reconcile"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// alarmOn finds the alarm on namespace/metric with exactly these dimensions.
func alarmOn(alarms map[string]*cloudwatch.Alarm, namespace, metric string, dims map[string]string) (string, *cloudwatch.Alarm) {
	for id, a := range alarms {
		if deref(a.Namespace) != namespace || deref(a.MetricName) != metric || len(a.Dimensions) != len(dims) {
			continue
		}
		match := true
		for _, d := range a.Dimensions {
			if dims[d.Name] != d.Value {
				match = false
			}
		}
		if match {
			return id, a
		}
	}
	return "", nil
}

func TestAlarms(t *testing.T) {
	tmpl := open(t)
	alarms := tmpl.GetAllCloudWatchAlarmResources()
	type want struct {
		what, namespace, metric string
		dims                    map[string]string
	}
	var wants []want
	for _, f := range Functions {
		for _, m := range []string{"Errors", "Throttles"} {
			wants = append(wants, want{f.Name + " " + m, "AWS/Lambda", m, map[string]string{"FunctionName": "!Ref " + f.Name}})
		}
	}
	wants = append(wants,
		want{"API 5xx", "AWS/ApiGateway", "5xx", map[string]string{"ApiId": "!Ref CheckoutApi", "Stage": "$default"}},
		// internal/idem's EMF line: namespace Checkout/Idempotency, metric Requests, dimension Outcome.
		want{"the unavailable outcome", "Checkout/Idempotency", "Requests", map[string]string{"Outcome": "unavailable"}},
		want{"a burst of webhook rejections", webhook.MetricsNamespace, "Rejected", map[string]string{}},
		want{"the reconciler's backlog (orders it could not settle)", reconcile.MetricsNamespace, "Unknown", map[string]string{}},
	)
	for _, w := range wants {
		id, a := alarmOn(alarms, w.namespace, w.metric, w.dims)
		if a == nil {
			t.Errorf("no alarm on %s (%s %s %v)", w.what, w.namespace, w.metric, w.dims)
			continue
		}
		if deref(a.Statistic) != "Sum" || deref(a.Threshold) < 1 || a.ComparisonOperator != "GreaterThanOrEqualToThreshold" ||
			deref(a.TreatMissingData) != "notBreaching" {
			t.Errorf("%s: %s of %s %s %v, missing data %q; want Sum >= threshold >= 1, missing data not breaching",
				id, deref(a.Statistic), a.ComparisonOperator, w.metric, deref(a.Threshold), deref(a.TreatMissingData))
		}
	}
	for id, a := range alarms {
		if !slices.Contains(a.AlarmActions, "!Ref AlarmTopic") {
			t.Errorf("%s notifies %v, want !Ref AlarmTopic", id, a.AlarmActions)
		}
	}
	if _, err := tmpl.GetSNSTopicWithName("AlarmTopic"); err != nil {
		t.Error(err)
	}
}

func TestTracingIsAParameter(t *testing.T) {
	tmpl := open(t)
	g, err := tmpl.GetServerlessGlobalFunction()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := tmpl.Parameters["TracingMode"]
	if !ok || deref(g.Tracing) != p.Default || p.Default != "PassThrough" || !slices.Contains(p.AllowedValues, interface{}("Active")) {
		t.Errorf("Globals.Function.Tracing = %q, TracingMode %+v; want !Ref TracingMode, default PassThrough, Active allowed", deref(g.Tracing), p)
	}
}

func TestOutputs(t *testing.T) {
	tmpl := open(t)
	want := map[string]string{
		"ApiUrl":               "!Sub https://${CheckoutApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/",
		"IdempotencyTableName": "!Ref IdempotencyTable",
		"OrdersTableName":      "!Ref OrdersTable",
		"AlarmTopicArn":        "!Ref AlarmTopic",
	}
	for name, value := range want {
		out, ok := tmpl.Outputs[name]
		if !ok {
			t.Errorf("output %s missing", name)
			continue
		}
		if out.Value != value {
			t.Errorf("output %s = %v, want %s", name, out.Value, value)
		}
	}
}
