package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/idem"
)

// baselinePhase is one measurement of a bare PutItem round trip, on the API's own DynamoDB
// client, alone (one request at a time) and loaded (as many at once as there are clients).
type baselinePhase struct {
	label               string
	alone, loaded       time.Duration // p50
	aloneN, loadedN     int64
	aloneP99, loadedP99 time.Duration
}

// baseline measures bare PutItems of an idempotency-record-sized item into table.
type baseline struct {
	client  *dynamodb.Client
	table   string
	clients int
	length  time.Duration
	seq     atomic.Int64
}

func (b *baseline) putItem(ctx context.Context) error {
	_, err := b.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(b.table),
		Item: map[string]types.AttributeValue{
			idem.PartitionKey: &types.AttributeValueMemberS{Value: fmt.Sprintf("baseline-%d", b.seq.Add(1))},
			"status":          &types.AttributeValueMemberS{Value: "IN_PROGRESS"},
			"fingerprint":     &types.AttributeValueMemberS{Value: strings.Repeat("f", 64)},
			idem.TTLAttribute: &types.AttributeValueMemberN{Value: "4102444800"},
		},
	})
	return err
}

// run puts items from n goroutines for the phase's length and returns the latencies.
func (b *baseline) run(ctx context.Context, n int) (*hdrhistogram.Histogram, error) {
	hists := make([]*hdrhistogram.Histogram, n)
	errs := make([]error, n)
	deadline := time.Now().Add(b.length)
	var wg sync.WaitGroup
	for g := range n {
		hists[g] = hdrhistogram.New(1, (60 * time.Second).Microseconds(), 3)
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				if err := b.putItem(ctx); err != nil {
					errs[g] = err
					return
				}
				_ = hists[g].RecordValue(max(time.Since(t).Microseconds(), 1))
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("baseline PutItem: %w", err)
		}
	}
	for _, h := range hists[1:] {
		hists[0].Merge(h)
	}
	return hists[0], nil
}

// measure runs one phase: alone, then loaded.
func (b *baseline) measure(ctx context.Context, label string) (baselinePhase, error) {
	alone, err := b.run(ctx, 1)
	if err != nil {
		return baselinePhase{}, err
	}
	loaded, err := b.run(ctx, b.clients)
	if err != nil {
		return baselinePhase{}, err
	}
	us := func(h *hdrhistogram.Histogram, q float64) time.Duration {
		return time.Duration(h.ValueAtQuantile(q)) * time.Microsecond
	}
	return baselinePhase{
		label: label,
		alone: us(alone, 50), aloneP99: us(alone, 99), aloneN: alone.TotalCount(),
		loaded: us(loaded, 50), loadedP99: us(loaded, 99), loadedN: loaded.TotalCount(),
	}, nil
}
