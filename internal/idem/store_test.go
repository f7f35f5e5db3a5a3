package idem_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
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

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is one Store implementation plus what the contract needs to build writes for it.
type fixture struct {
	store idem.Store
	// marker returns a write that creates the marker item name unless it exists.
	marker func(name string) idem.Write
	// markerAbsent returns a guard that fails when the marker exists.
	markerAbsent func(name string) idem.Write
	// markers counts the markers created.
	markers func(t *testing.T) int
}

// stores returns a fresh fixture of every implementation; the DynamoDB one uses its own table
// on DynamoDB Local.
func stores(t *testing.T) map[string]func(t *testing.T) fixture {
	return map[string]func(t *testing.T) fixture{
		"memory":   memoryFixture,
		"dynamodb": dynamoFixture,
	}
}

func memoryFixture(t *testing.T) fixture {
	var mu sync.Mutex
	made := map[string]bool{}
	return fixture{
		store: idem.NewMemoryStore(),
		marker: func(name string) idem.Write {
			return func() error {
				mu.Lock()
				defer mu.Unlock()
				if made[name] {
					return errors.New("marker exists")
				}
				made[name] = true
				return nil
			}
		},
		markerAbsent: func(name string) idem.Write {
			return func() error {
				mu.Lock()
				defer mu.Unlock()
				if made[name] {
					return errors.New("marker exists")
				}
				return nil
			}
		},
		markers: func(*testing.T) int { mu.Lock(); defer mu.Unlock(); return len(made) },
	}
}

func dynamoFixture(t *testing.T) fixture {
	c := testenv.DynamoClient(t)
	table := testenv.Table(t, c, idem.Table("idem"))
	markers := testenv.Table(t, c, idem.Table("markers"))
	key := func(name string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{idem.PartitionKey: &types.AttributeValueMemberS{Value: name}}
	}
	return fixture{
		store: idem.NewDynamoStore(c, table),
		marker: func(name string) idem.Write {
			return types.TransactWriteItem{Put: &types.Put{
				TableName: aws.String(markers), Item: key(name),
				ConditionExpression: aws.String("attribute_not_exists(" + idem.PartitionKey + ")"),
			}}
		},
		markerAbsent: func(name string) idem.Write {
			return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName: aws.String(markers), Key: key(name),
				ConditionExpression: aws.String("attribute_not_exists(" + idem.PartitionKey + ")"),
			}}
		},
		markers: func(t *testing.T) int {
			out, err := c.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(markers), Select: types.SelectCount, ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			return int(out.Count)
		},
	}
}

// t0 starts the fake clocks at the real time: DynamoDB Local, like DynamoDB, deletes items whose
// TTL attribute lies in the real past, whatever the clock of the test says.
var t0 = time.Now().UTC().Truncate(time.Second)

func newRecord(key, owner string, now time.Time) idem.Record {
	return idem.Record{
		Key: key, Status: idem.InProgress, Fingerprint: "fp-" + key, Owner: owner,
		LeaseUntil: now.Add(30 * time.Second), ExpiresAt: now.Add(24 * time.Hour), CreatedAt: now,
	}
}

func completed(rec idem.Record, status int, body []byte) idem.Record {
	rec.Status = idem.Completed
	rec.Response = &idem.Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}, "X-Order": {"a", "b"}}, Body: body}
	return rec
}

func mustClaim(t *testing.T, s idem.Store, rec idem.Record, now time.Time, guards ...idem.Write) {
	t.Helper()
	held, err := s.Claim(context.Background(), rec, now, guards...)
	if err != nil || held != nil {
		t.Fatalf("Claim(%s) = %+v, %v; want a fresh claim", rec.Key, held, err)
	}
}

func mustGet(t *testing.T, s idem.Store, key string, now time.Time) *idem.Record {
	t.Helper()
	r, err := s.Get(context.Background(), key, now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	for name, newFixture := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("a fresh key is claimed and reads back in progress", func(t *testing.T) {
				s := newFixture(t).store
				rec := newRecord("k1", "owner-a", t0)
				mustClaim(t, s, rec, t0)
				got := mustGet(t, s, "k1", t0)
				if got == nil || got.Status != idem.InProgress || got.Owner != "owner-a" || got.Fingerprint != rec.Fingerprint ||
					!got.LeaseUntil.Equal(rec.LeaseUntil) || !got.ExpiresAt.Equal(rec.ExpiresAt) || !got.CreatedAt.Equal(rec.CreatedAt) {
					t.Fatalf("Get = %+v, want %+v", got, rec)
				}
			})
			t.Run("a held key returns the holder and writes nothing", func(t *testing.T) {
				s := newFixture(t).store
				mustClaim(t, s, newRecord("k1", "owner-a", t0), t0)
				other := newRecord("k1", "owner-b", t0)
				other.Fingerprint = "other"
				held, err := s.Claim(ctx, other, t0.Add(time.Second))
				if err != nil || held == nil || held.Owner != "owner-a" || held.Fingerprint != "fp-k1" {
					t.Fatalf("second Claim = %+v, %v; want the first record", held, err)
				}
				if got := mustGet(t, s, "k1", t0); got.Owner != "owner-a" {
					t.Fatalf("owner changed to %s", got.Owner)
				}
			})
			t.Run("completion stores the response, returned to later claims", func(t *testing.T) {
				s := newFixture(t).store
				rec := newRecord("k1", "owner-a", t0)
				mustClaim(t, s, rec, t0)
				done := completed(rec, 201, []byte(`{"order_id":"o1"}`))
				if err := s.Complete(ctx, done); err != nil {
					t.Fatal(err)
				}
				held, err := s.Claim(ctx, newRecord("k1", "owner-b", t0), t0.Add(time.Minute))
				if err != nil || held == nil || held.Status != idem.Completed {
					t.Fatalf("Claim after completion = %+v, %v", held, err)
				}
				assertResponse(t, held.Response, done.Response)
			})
			t.Run("large bodies round trip byte for byte", func(t *testing.T) {
				s := newFixture(t).store
				for i, size := range []int{0, 16 << 10, 200 << 10} {
					key := fmt.Sprintf("big-%d", i)
					rec := newRecord(key, "o", t0)
					mustClaim(t, s, rec, t0)
					body := bytes.Repeat([]byte(`{"line":"a fairly repetitive json body"},`), size/40+1)[:size]
					done := completed(rec, 200, body)
					if err := s.Complete(ctx, done); err != nil {
						t.Fatalf("size %d: %v", size, err)
					}
					assertResponse(t, mustGet(t, s, key, t0).Response, done.Response)
				}
			})
			t.Run("a response marked too large completes without a body", func(t *testing.T) {
				s := newFixture(t).store
				rec := newRecord("k1", "o", t0)
				mustClaim(t, s, rec, t0)
				rec.Status, rec.Response = idem.Completed, &idem.Response{Status: 200, TooLarge: true}
				if err := s.Complete(ctx, rec); err != nil {
					t.Fatal(err)
				}
				got := mustGet(t, s, "k1", t0)
				if got.Status != idem.Completed || !got.Response.TooLarge || len(got.Response.Body) != 0 {
					t.Fatalf("got %+v", got.Response)
				}
			})
			t.Run("only the owner completes, and only once: its repeat is a no-op", func(t *testing.T) {
				s := newFixture(t).store
				rec := newRecord("k1", "owner-a", t0)
				mustClaim(t, s, rec, t0)
				stranger := completed(rec, 200, nil)
				stranger.Owner = "owner-b"
				if err := s.Complete(ctx, stranger); !errors.Is(err, idem.ErrNotOwner) {
					t.Fatalf("stranger Complete = %v, want ErrNotOwner", err)
				}
				if err := s.Complete(ctx, completed(rec, 200, []byte("first"))); err != nil {
					t.Fatal(err)
				}
				if err := s.Complete(ctx, completed(rec, 200, []byte("second"))); err != nil {
					t.Fatalf("the owner's repeated Complete = %v, want a no-op", err)
				}
				if got := mustGet(t, s, "k1", t0); string(got.Response.Body) != "first" {
					t.Fatalf("body = %q, want first", got.Response.Body)
				}
			})
			t.Run("release by the owner frees the key; by anyone else it does nothing", func(t *testing.T) {
				s := newFixture(t).store
				rec := newRecord("k1", "owner-a", t0)
				mustClaim(t, s, rec, t0)
				if err := s.Release(ctx, "k1", "owner-b"); !errors.Is(err, idem.ErrNotOwner) {
					t.Fatalf("stranger Release = %v", err)
				}
				if mustGet(t, s, "k1", t0) == nil {
					t.Fatal("record gone after a stranger's release")
				}
				if err := s.Release(ctx, "k1", "owner-a"); err != nil {
					t.Fatal(err)
				}
				if got := mustGet(t, s, "k1", t0); got != nil {
					t.Fatalf("record still there: %+v", got)
				}
				mustClaim(t, s, newRecord("k1", "owner-c", t0), t0)
			})
			t.Run("a completed record is never released", func(t *testing.T) {
				s := newFixture(t).store
				rec := newRecord("k1", "owner-a", t0)
				mustClaim(t, s, rec, t0)
				if err := s.Complete(ctx, completed(rec, 200, nil)); err != nil {
					t.Fatal(err)
				}
				if err := s.Release(ctx, "k1", "owner-a"); !errors.Is(err, idem.ErrNotOwner) {
					t.Fatalf("Release of a completed record = %v", err)
				}
			})
			t.Run("an expired record still stored counts as absent", func(t *testing.T) {
				s := newFixture(t).store
				rec := newRecord("k1", "owner-a", t0)
				mustClaim(t, s, rec, t0)
				if err := s.Complete(ctx, completed(rec, 200, nil)); err != nil {
					t.Fatal(err)
				}
				later := rec.ExpiresAt
				if got := mustGet(t, s, "k1", later.Add(-time.Second)); got == nil {
					t.Fatal("record absent before expiry")
				}
				if got := mustGet(t, s, "k1", later); got != nil {
					t.Fatalf("expired record returned: %+v", got)
				}
				mustClaim(t, s, newRecord("k1", "owner-b", later), later)
				if got := mustGet(t, s, "k1", later); got.Owner != "owner-b" || got.Status != idem.InProgress {
					t.Fatalf("after re-claim: %+v", got)
				}
			})
			t.Run("an in-progress record whose lease passed is taken over; the old owner is refused", func(t *testing.T) {
				s := newFixture(t).store
				old := newRecord("k1", "owner-a", t0)
				mustClaim(t, s, old, t0)
				if held, _ := s.Claim(ctx, newRecord("k1", "owner-b", t0), old.LeaseUntil.Add(-time.Millisecond)); held == nil {
					t.Fatal("taken over before the lease ended")
				}
				after := old.LeaseUntil
				mustClaim(t, s, newRecord("k1", "owner-b", after), after)
				if err := s.Complete(ctx, completed(old, 200, []byte("zombie"))); !errors.Is(err, idem.ErrNotOwner) {
					t.Fatalf("old owner's Complete = %v, want ErrNotOwner", err)
				}
				if err := s.Release(ctx, "k1", "owner-a"); !errors.Is(err, idem.ErrNotOwner) {
					t.Fatalf("old owner's Release = %v, want ErrNotOwner", err)
				}
				if got := mustGet(t, s, "k1", after); got.Owner != "owner-b" || got.Status != idem.InProgress {
					t.Fatalf("record = %+v, want owner-b in progress", got)
				}
			})
			t.Run("a failing guard claims nothing", func(t *testing.T) {
				f := newFixture(t)
				rec := newRecord("k1", "owner-a", t0)
				mustClaim(t, f.store, rec, t0, f.markerAbsent("m1"))
				if err := f.store.Release(ctx, "k1", "owner-a"); err != nil {
					t.Fatal(err)
				}
				mustClaim(t, f.store, newRecord("k0", "owner-a", t0), t0, f.marker("m1"))
				_, err := f.store.Claim(ctx, rec, t0, f.markerAbsent("m1"))
				if !errors.Is(err, idem.ErrWriteFailed) {
					t.Fatalf("Claim with a failing guard = %v, want ErrWriteFailed", err)
				}
				if got := mustGet(t, f.store, "k1", t0); got != nil {
					t.Fatalf("claimed despite the guard: %+v", got)
				}
			})
			t.Run("attached writes commit with the completion or not at all", func(t *testing.T) {
				f := newFixture(t)
				rec := newRecord("k1", "owner-a", t0)
				mustClaim(t, f.store, rec, t0)
				if err := f.store.Complete(ctx, completed(rec, 201, []byte("a")), f.marker("order-1")); err != nil {
					t.Fatal(err)
				}
				rec2 := newRecord("k2", "owner-a", t0)
				mustClaim(t, f.store, rec2, t0)
				err := f.store.Complete(ctx, completed(rec2, 201, []byte("b")), f.marker("order-1"))
				if !errors.Is(err, idem.ErrWriteFailed) {
					t.Fatalf("Complete with a failing write = %v, want ErrWriteFailed", err)
				}
				if got := mustGet(t, f.store, "k2", t0); got == nil || got.Status != idem.InProgress {
					t.Fatalf("k2 = %+v, want still in progress", got)
				}
				if n := f.markers(t); n != 1 {
					t.Fatalf("%d markers, want 1", n)
				}
			})
			t.Run("one winner among 32 concurrent claims", func(t *testing.T) {
				s := newFixture(t).store
				var wins atomic.Int32
				var wg sync.WaitGroup
				for i := range 32 {
					wg.Go(func() {
						held, err := s.Claim(ctx, newRecord("k1", fmt.Sprint("owner-", i), t0), t0)
						if err != nil {
							t.Error(err)
						}
						if held == nil {
							wins.Add(1)
						}
					})
				}
				wg.Wait()
				if wins.Load() != 1 {
					t.Fatalf("%d winners, want 1", wins.Load())
				}
			})
		})
	}
}

func assertResponse(t *testing.T, got, want *idem.Response) {
	t.Helper()
	if got == nil {
		t.Fatal("no response stored")
	}
	if got.Status != want.Status || !bytes.Equal(got.Body, want.Body) || fmt.Sprint(got.Header) != fmt.Sprint(want.Header) {
		t.Fatalf("stored response = %d %v %d bytes, want %d %v %d bytes",
			got.Status, got.Header, len(got.Body), want.Status, want.Header, len(want.Body))
	}
}
