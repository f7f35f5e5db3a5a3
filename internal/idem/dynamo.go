package idem

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
)

// DynamoDBAPI is the part of the DynamoDB client the store uses.
type DynamoDBAPI interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// DynamoStore keeps records in a DynamoDB table shaped like Table. A first call costs two
// requests (claim, complete): two conditional PutItems, or one TransactWriteItems each when
// writes go with them. A replay costs one: the losing claim returns the record
// (ReturnValuesOnConditionCheckFailure ALL_OLD). Writes it commits are types.TransactWriteItem.
type DynamoStore struct {
	client DynamoDBAPI
	table  *string
}

var _ Store = (*DynamoStore)(nil)

// NewDynamoStore returns a store over table.
func NewDynamoStore(client DynamoDBAPI, table string) *DynamoStore {
	return &DynamoStore{client: client, table: aws.String(table)}
}

// claimCondition: absent, expired (TTL deletion lags, so an expired item may still be there), or
// in progress with its lease over.
const claimCondition = "attribute_not_exists(#pk) OR #exp <= :now OR (#st = :inprogress AND #lease <= :nowms)"

// ownedCondition: still in progress under the same owner.
const ownedCondition = "#owner = :owner AND #st = :inprogress"

// The attribute names of the conditions, built once (the SDK only reads them).
var (
	claimNames = map[string]string{"#pk": PartitionKey, "#exp": TTLAttribute, "#st": attrStatus, "#lease": attrLease}
	ownedNames = map[string]string{"#st": attrStatus, "#owner": attrOwner}
)

// Accepts implements Store.
func (s *DynamoStore) Accepts(w Write) error {
	if _, ok := w.(types.TransactWriteItem); !ok {
		return fmt.Errorf("%w: DynamoStore takes a types.TransactWriteItem, not %T", ErrWriteKind, w)
	}
	return nil
}

// Claim implements Store.
func (s *DynamoStore) Claim(ctx context.Context, rec Record, now time.Time, writes ...Write) (*Record, error) {
	rec.Status, rec.Response = InProgress, nil
	put := &types.Put{
		TableName: s.table, Item: recordItem(rec), ConditionExpression: aws.String(claimCondition),
		ExpressionAttributeNames: claimNames,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": ddb.N(now.Unix()), ":nowms": ddb.N(now.UnixMilli()), ":inprogress": ddb.S(string(InProgress)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	// A conflict is most likely a concurrent claim of the same key: if it committed, it holds
	// the key and this claim has lost, which a read tells at once.
	var winner *Record
	lost := func() error {
		if r, err := s.Get(ctx, rec.Key, now); err == nil && r != nil {
			winner = r
			return errLost
		}
		return nil
	}
	err := s.write(ctx, types.TransactWriteItem{Put: put}, writes, lost, func() error {
		_, err := s.client.PutItem(ctx, ddb.PutInput(put))
		return err
	})
	if errors.Is(err, errLost) {
		return winner, nil
	}
	var held *heldError
	if !errors.As(err, &held) {
		if err != nil {
			return nil, fmt.Errorf("idem: claim: %w", err)
		}
		return nil, nil
	}
	if len(held.item) == 0 { // an emulator that does not return ALL_OLD: read it instead
		r, err := s.Get(ctx, rec.Key, now)
		if err != nil || r != nil {
			return r, err
		}
		return s.Claim(ctx, rec, now, writes...) // gone in between: claim again
	}
	r, err := itemRecord(held.item)
	return &r, err
}

// Get implements Store with a strongly consistent read.
func (s *DynamoStore) Get(ctx context.Context, key string, now time.Time) (*Record, error) {
	var out *dynamodb.GetItemOutput
	err := retryConflicts(ctx, nil, func() (err error) {
		out, err = s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: s.key(key), ConsistentRead: aws.Bool(true)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("idem: get: %w", err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	r, err := itemRecord(out.Item)
	if err != nil {
		return nil, err
	}
	if !now.Before(r.ExpiresAt) {
		return nil, nil // expired but not yet deleted by TTL
	}
	return &r, nil
}

// Complete implements Store: one conditional Put of the record as claimed, completed (a whole
// item, so DynamoDB parses no update expression). rec must be the record Claim wrote: a record
// without its expiry is refused rather than stored as already expired.
func (s *DynamoStore) Complete(ctx context.Context, rec Record, writes ...Write) error {
	if rec.ExpiresAt.IsZero() {
		return fmt.Errorf("idem: complete %s: not the record as claimed (no expiry)", rec.Key)
	}
	put := &types.Put{
		TableName: s.table, Item: completedItem(rec),
		ConditionExpression: aws.String(ownedCondition), ExpressionAttributeNames: ownedNames,
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": ddb.S(rec.Owner), ":inprogress": ddb.S(string(InProgress))},
		// On a failed condition, tell "our own earlier attempt already completed it" (the SDK
		// retried a request whose answer was lost) from "someone else holds it now".
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	err := s.write(ctx, types.TransactWriteItem{Put: put}, writes, nil, func() error {
		_, err := s.client.PutItem(ctx, ddb.PutInput(put))
		return err
	})
	var held *heldError
	switch {
	case errors.As(err, &held):
		if ddb.String(held.item, attrOwner) == rec.Owner && ddb.String(held.item, attrStatus) == string(Completed) {
			return nil // our own completion, repeated
		}
		return ErrNotOwner
	case err != nil:
		return fmt.Errorf("idem: complete: %w", err)
	}
	return nil
}

// Release implements Store.
func (s *DynamoStore) Release(ctx context.Context, key, owner string) error {
	err := retryConflicts(ctx, nil, func() error {
		_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: s.table, Key: s.key(key), ConditionExpression: aws.String(ownedCondition),
			ExpressionAttributeNames: ownedNames,
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":owner": ddb.S(owner), ":inprogress": ddb.S(string(InProgress)),
			},
		})
		return err
	})
	var held *heldError
	if errors.As(err, &held) {
		return ErrNotOwner
	}
	if err != nil {
		return fmt.Errorf("idem: release: %w", err)
	}
	return nil
}

func (s *DynamoStore) key(k string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{PartitionKey: ddb.S(k)}
}

// write commits own (the record's write) alone with single, or with writes in one
// TransactWriteItems, retrying transaction conflicts (see retryConflicts for onConflict). A
// failed condition on the record is a *heldError; on one of writes, ErrWriteFailed.
func (s *DynamoStore) write(ctx context.Context, own types.TransactWriteItem, writes []Write, onConflict, single func() error) error {
	if len(writes) == 0 {
		return retryConflicts(ctx, onConflict, single)
	}
	items := []types.TransactWriteItem{own}
	for _, w := range writes {
		if err := s.Accepts(w); err != nil {
			return err
		}
		items = append(items, w.(types.TransactWriteItem))
	}
	return retryConflicts(ctx, onConflict, func() error {
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		return err
	})
}

// heldError is a failed condition on the record itself, with the item as it stood (ALL_OLD).
type heldError struct {
	item map[string]types.AttributeValue
}

func (e *heldError) Error() string { return "idem: record condition failed" }

// errConflict: DynamoDB refused a write because a transaction was writing the same item.
// errLost: a claim that met a conflict found the key held by the claim it conflicted with.
var (
	errConflict = errors.New("idem: transaction conflict")
	errLost     = errors.New("idem: claim lost to a concurrent one")
)

// classify is the one place that reads DynamoDB's answers to a write: a failed condition on the
// record (index 0) is a *heldError; on another item of a transaction, ErrWriteFailed; a
// conflict with another transaction, errConflict (retried); anything else unchanged.
func classify(err error) error {
	var ccf *types.ConditionalCheckFailedException
	var tce *types.TransactionConflictException
	var cancelled *types.TransactionCanceledException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ccf):
		return &heldError{item: ccf.Item}
	case errors.As(err, &tce):
		return errConflict
	case !errors.As(err, &cancelled):
		return err
	}
	conflict := false
	for i, r := range cancelled.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed":
			if i == 0 {
				return &heldError{item: r.Item}
			}
			return fmt.Errorf("%w: write %d", ErrWriteFailed, i-1)
		case "TransactionConflict":
			conflict = true
		}
	}
	if conflict {
		return errConflict
	}
	return err
}

// maxConflictRetries bounds the retries of a write that met a transaction on its item: the SDK
// does not retry those, and they are routine when duplicates of one key arrive together.
const maxConflictRetries = 10

// retryConflicts runs call, classified, retrying conflicts with jittered backoff (5 ms doubling
// to 320 ms, ±50 %: ddb.Backoff). Before each retry, onConflict
// (when not nil) may end the retries by returning an error, which retryConflicts returns.
func retryConflicts(ctx context.Context, onConflict, call func() error) error {
	for attempt := 0; ; attempt++ {
		err := classify(call())
		if !errors.Is(err, errConflict) || attempt >= maxConflictRetries {
			return err
		}
		if onConflict != nil {
			if err := onConflict(); err != nil {
				return err
			}
		}
		if err := ddb.Backoff(ctx, attempt); err != nil {
			return err
		}
	}
}
