package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/idem"
)

// sequential is one request at a time, each paired with a bare PutItem on the API's client
// (as BenchmarkDynamoDB does, but over HTTP): the latency of the API itself, without the
// queueing of a loaded machine, against the DynamoDB round trip it cannot avoid.
type sequential struct {
	name     string
	api, put *sample
	http     *sample // GET of an unknown path on the same server: HTTP and routing alone
	// cond (replay only): a failed conditional PutItem of the replayed key's own record, ALL_OLD,
	// on the same client: what a replay cannot do without.
	cond    *sample
	ddb     int64 // DynamoDB requests of the API (the PutItems subtracted)
	keys    int64
	orders  int64
	charges int64
}

// ratio is p50 of the API over p50 of the PutItems measured between its requests.
func (s sequential) ratio() float64 {
	return float64(s.api.quantile(50)) / float64(s.put.quantile(50))
}

// measureSequential runs the first-time path and the replay path for length each.
func measureSequential(ctx context.Context, sys *system, l *loader, base *baseline, length time.Duration, runID string) ([]sequential, error) {
	replayKey := runID + "-sequential-replay"
	paths := []struct {
		name string
		key  func(i int) string
		keys func(n int64) int64
	}{
		{"unique", func(i int) string { return fmt.Sprintf("%s-sequential-%d", runID, i) }, func(n int64) int64 { return n }},
		{"replay", func(int) string { return replayKey }, func(int64) int64 { return 1 }},
	}
	var out []sequential
	for _, p := range paths {
		orders0, err := sys.countOrders(ctx)
		if err != nil {
			return nil, err
		}
		charges0 := sys.payments.Created()
		if p.name == "replay" {
			warm := newSample()
			l.post(ctx, replayKey, warm) // completes the key; not measured
			if warm.status[http.StatusCreated] != 1 {
				return nil, fmt.Errorf("sequential replay: the first request answered %s", statuses(warm))
			}
		}
		s := sequential{name: p.name, api: newSample(), put: newSample(), http: newSample()}
		var record map[string]types.AttributeValue
		if p.name == "replay" {
			if record, err = storedRecord(ctx, base, replayKey); err != nil {
				return nil, err
			}
			s.cond = newSample()
		}
		ddb0 := sys.counter.Load()
		for i, end := 0, time.Now().Add(length); time.Now().Before(end) && ctx.Err() == nil; i++ {
			t := time.Now()
			if err := base.putItem(ctx); err != nil {
				return nil, fmt.Errorf("sequential: PutItem: %w", err)
			}
			_ = s.put.hist.RecordValue(max(time.Since(t).Microseconds(), 1))
			l.post(ctx, p.key(i), s.api)
			l.get(ctx, "/loadgen-http-baseline", s.http)
			if record != nil {
				t := time.Now()
				if err := failedPut(ctx, base, record); err != nil {
					return nil, err
				}
				_ = s.cond.hist.RecordValue(max(time.Since(t).Microseconds(), 1))
			}
		}
		s.ddb = sys.counter.Load() - ddb0 - s.put.requests()
		if s.cond != nil {
			s.ddb -= s.cond.requests()
		}
		n, err := sys.countOrders(ctx)
		if err != nil {
			return nil, err
		}
		s.keys = p.keys(s.api.requests())
		s.orders, s.charges = int64(n-orders0), int64(sys.payments.Created()-charges0)
		out = append(out, s)
	}
	return out, nil
}

// storedRecord reads the idempotency record of an anonymous caller's checkout key.
func storedRecord(ctx context.Context, base *baseline, key string) (map[string]types.AttributeValue, error) {
	out, err := base.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(base.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{idem.PartitionKey: ddb.S(idem.ScopedKey(checkout.Scope, "", key))}})
	if err != nil || len(out.Item) == 0 {
		return nil, fmt.Errorf("sequential replay: read its record: %v (%d attributes)", err, len(out.Item))
	}
	return out.Item, nil
}

// failedPut writes record again on condition that it is absent, returning it (ALL_OLD) when the
// condition fails, as a replay's claim does; anything but that failure is an error.
func failedPut(ctx context.Context, base *baseline, record map[string]types.AttributeValue) error {
	_, err := base.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(base.table), Item: record,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": idem.PartitionKey},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil
	}
	return fmt.Errorf("sequential: the conditional PutItem of a stored record did not fail its condition: %v", err)
}
