package idem_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// TestGroup shows the core on a plain function, no HTTP: a job that must run once per key.
func TestGroup(t *testing.T) {
	ctx := context.Background()
	for name, newFixture := range stores(t) {
		t.Run(name, func(t *testing.T) {
			var runs atomic.Int32
			job := func(result string) idem.Func {
				return func(context.Context) (idem.Response, error) {
					runs.Add(1)
					return idem.Response{Body: []byte(result)}, nil
				}
			}
			t.Run("the first call runs, a repeat replays without running", func(t *testing.T) {
				g := idem.NewGroup(newFixture(t).store, idem.Options{})
				runs.Store(0)
				r1, rep1, err1 := g.Do(ctx, idem.Call{Key: "job-1", Fingerprint: "a"}, job("done"))
				r2, rep2, err2 := g.Do(ctx, idem.Call{Key: "job-1", Fingerprint: "a"}, job("again"))
				if err1 != nil || err2 != nil || rep1 || !rep2 || string(r1.Body) != "done" || string(r2.Body) != "done" || runs.Load() != 1 {
					t.Fatalf("Do = %q %v %v, %q %v %v; runs %d", r1.Body, rep1, err1, r2.Body, rep2, err2, runs.Load())
				}
			})
			t.Run("another fingerprint under the key is ErrMismatch and does not run", func(t *testing.T) {
				g := idem.NewGroup(newFixture(t).store, idem.Options{})
				runs.Store(0)
				_, _, _ = g.Do(ctx, idem.Call{Key: "job-1", Fingerprint: "a"}, job("done"))
				if _, _, err := g.Do(ctx, idem.Call{Key: "job-1", Fingerprint: "b"}, job("x")); !errors.Is(err, idem.ErrMismatch) || runs.Load() != 1 {
					t.Fatalf("Do = %v, runs %d; want ErrMismatch, 1", err, runs.Load())
				}
			})
			t.Run("an error releases the key and the next call runs", func(t *testing.T) {
				g := idem.NewGroup(newFixture(t).store, idem.Options{})
				boom := errors.New("boom")
				_, _, err := g.Do(ctx, idem.Call{Key: "job-1", Fingerprint: "a"}, func(context.Context) (idem.Response, error) { return idem.Response{}, boom })
				if !errors.Is(err, boom) {
					t.Fatalf("Do = %v, want boom", err)
				}
				r, replayed, err := g.Do(ctx, idem.Call{Key: "job-1", Fingerprint: "a"}, job("second"))
				if err != nil || replayed || string(r.Body) != "second" {
					t.Fatalf("retry = %q %v %v", r.Body, replayed, err)
				}
			})
			t.Run("a call in progress makes a duplicate wait and then ErrInProgress", func(t *testing.T) {
				g := idem.NewGroup(newFixture(t).store, idem.Options{Wait: 100 * time.Millisecond})
				started, finish := make(chan struct{}), make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					_, _, _ = g.Do(ctx, idem.Call{Key: "job-1", Fingerprint: "a"}, func(context.Context) (idem.Response, error) {
						close(started)
						<-finish
						return idem.Response{Body: []byte("slow")}, nil
					})
				})
				<-started
				_, _, err := g.Do(ctx, idem.Call{Key: "job-1", Fingerprint: "a"}, job("dup"))
				close(finish)
				wg.Wait()
				if !errors.Is(err, idem.ErrInProgress) || idem.RetryAfter(err) < time.Second {
					t.Fatalf("duplicate = %v (retry after %v), want ErrInProgress", err, idem.RetryAfter(err))
				}
				r, replayed, err := g.Do(ctx, idem.Call{Key: "job-1", Fingerprint: "a"}, job("dup"))
				if err != nil || !replayed || string(r.Body) != "slow" {
					t.Fatalf("after = %q %v %v", r.Body, replayed, err)
				}
			})
			t.Run("a claim whose lease ended is taken over, and the old owner's result is refused", func(t *testing.T) {
				clock := testenv.NewClock(time.Now())
				g := idem.NewGroup(newFixture(t).store, idem.Options{Now: clock.Now, Lease: 10 * time.Second})
				var second *idem.Response
				r, replayed, err := g.Do(ctx, idem.Call{Key: "job-1", Fingerprint: "a"}, func(context.Context) (idem.Response, error) {
					clock.Add(11 * time.Second) // this process stalls past its lease
					var err error
					second, _, err = g.Do(ctx, idem.Call{Key: "job-1", Fingerprint: "a"}, job("taken over"))
					if err != nil {
						t.Errorf("take-over = %v", err)
					}
					return idem.Response{Body: []byte("stale")}, nil
				})
				if err != nil || !replayed || string(r.Body) != "taken over" || second == nil || string(second.Body) != "taken over" {
					t.Fatalf("old owner = %q %v %v, want the take-over's result replayed", r.Body, replayed, err)
				}
			})
			t.Run("the function runs with a deadline that keeps Reserve for its completion", func(t *testing.T) {
				g := idem.NewGroup(newFixture(t).store, idem.Options{})
				dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				outer, _ := dctx.Deadline()
				_, _, err := g.Do(dctx, idem.Call{Key: "job-1", Fingerprint: "a"}, func(ctx context.Context) (idem.Response, error) {
					inner, ok := ctx.Deadline()
					if !ok || outer.Sub(inner) < idem.Reserve-50*time.Millisecond {
						t.Errorf("function deadline %v, outer %v: want Reserve (%v) kept back", inner, outer, idem.Reserve)
					}
					return idem.Response{}, nil
				})
				if err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestWritesOfAnotherStore shows that mixing stores fails loudly: each store refuses the other's
// writes with ErrWriteKind, and writes nothing.
func TestWritesOfAnotherStore(t *testing.T) {
	ctx := context.Background()
	mem, dyn := memoryFixture(t), dynamoFixture(t)
	tests := []struct {
		name  string
		store idem.Store
		write idem.Write
	}{
		{"the memory store refuses a DynamoDB item", mem.store, dyn.marker("m")},
		{"the DynamoDB store refuses a memory write", dyn.store, mem.marker("m")},
		{"either refuses a value of no kind", mem.store, "a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.store.Accepts(tt.write); !errors.Is(err, idem.ErrWriteKind) {
				t.Fatalf("Accepts = %v, want ErrWriteKind", err)
			}
			g := idem.NewGroup(tt.store, idem.Options{})
			ran := false
			_, _, err := g.Do(ctx, idem.Call{Key: "k", Fingerprint: "a", With: []idem.Write{tt.write}}, func(context.Context) (idem.Response, error) {
				ran = true
				return idem.Response{}, nil
			})
			if !errors.Is(err, idem.ErrWriteKind) || ran {
				t.Fatalf("Do = %v (ran %v), want ErrWriteKind without running", err, ran)
			}
			if r, err := tt.store.Get(ctx, "k", time.Now()); err != nil || r != nil {
				t.Fatalf("record = %+v, %v; want none", r, err)
			}
		})
	}
}

// lostAnswer is a DynamoDB client whose first PutItem succeeds but whose answer is lost, so it
// is sent again, as the SDK's retry does.
type lostAnswer struct {
	idem.DynamoDBAPI
	once sync.Once
}

func (c *lostAnswer) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.once.Do(func() { _, _ = c.DynamoDBAPI.PutItem(ctx, in, o...) })
	return c.DynamoDBAPI.PutItem(ctx, in, o...)
}

func TestClaimWhoseAnswerWasLost(t *testing.T) {
	c := testenv.DynamoClient(t)
	table := testenv.Table(t, c, idem.Table("idem"))
	g := idem.NewGroup(idem.NewDynamoStore(&lostAnswer{DynamoDBAPI: c}, table), idem.Options{})
	runs := 0
	r, replayed, err := g.Do(context.Background(), idem.Call{Key: "k", Fingerprint: "a"}, func(context.Context) (idem.Response, error) {
		runs++
		return idem.Response{Body: []byte("ok")}, nil
	})
	if err != nil || replayed || runs != 1 || string(r.Body) != "ok" {
		t.Fatalf("Do = %v, replayed %v, runs %d: a claim retried after a lost answer is ours", err, replayed, runs)
	}
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{idem.PartitionKey: &types.AttributeValueMemberS{Value: "k"}}, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item["status"].(*types.AttributeValueMemberS).Value != string(idem.Completed) {
		t.Fatalf("record %v, %v; want completed", out.Item, err)
	}
}
