package ddb

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// Counter counts the HTTP requests a DynamoDB client sends, retries included, per operation.
// Benchmarks and the load generator use it so "requests per API call" is counted, not assumed.
// A request adds to one atomic counter of its operation: no lock on the measured path.
type Counter struct {
	byOp sync.Map // operation name → *atomic.Int64
}

// Option installs the counter on a client: pass it to NewLambdaClient or dynamodb.New.
func (c *Counter) Option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("CountRequests",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
					middleware.FinalizeOutput, middleware.Metadata, error) {
					op := middleware.GetOperationName(ctx)
					n, ok := c.byOp.Load(op)
					if !ok {
						n, _ = c.byOp.LoadOrStore(op, new(atomic.Int64))
					}
					n.(*atomic.Int64).Add(1)
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		})
	}
}

// Load returns the number of requests counted so far.
func (c *Counter) Load() int64 {
	var total int64
	for _, n := range c.ByOperation() {
		total += n
	}
	return total
}

// ByOperation returns the requests counted so far per operation name (PutItem, GetItem, ...).
func (c *Counter) ByOperation() map[string]int64 {
	out := map[string]int64{}
	c.byOp.Range(func(op, n any) bool {
		if v := n.(*atomic.Int64).Load(); v > 0 {
			out[op.(string)] = v
		}
		return true
	})
	return out
}

// Reset sets the counts back to zero.
func (c *Counter) Reset() {
	c.byOp.Range(func(_, n any) bool { n.(*atomic.Int64).Store(0); return true })
}
