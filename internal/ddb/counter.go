package ddb

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// Counter counts the HTTP requests a DynamoDB client sends, retries included.
// Benchmarks and the load generator use it so "requests per API call" is counted, not assumed.
type Counter struct {
	n    atomic.Int64
	mu   sync.Mutex
	byOp map[string]int64
}

// Option installs the counter on a client: pass it to NewLambdaClient or dynamodb.New.
func (c *Counter) Option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("CountRequests",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
					middleware.FinalizeOutput, middleware.Metadata, error) {
					c.n.Add(1)
					op := middleware.GetOperationName(ctx)
					c.mu.Lock()
					if c.byOp == nil {
						c.byOp = map[string]int64{}
					}
					c.byOp[op]++
					c.mu.Unlock()
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		})
	}
}

// Load returns the number of requests counted so far.
func (c *Counter) Load() int64 { return c.n.Load() }

// ByOperation returns the requests counted so far per operation name (PutItem, GetItem, ...).
func (c *Counter) ByOperation() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.byOp)
}

// Reset sets the counts back to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n.Store(0)
	c.byOp = nil
}
