package idem

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/checkout-idem/checkout/internal/ddb"
)

// MaxStored is the largest response body stored as is; larger bodies are gzipped, and a body
// still larger than that once compressed is not stored (the record is completed with TooLarge),
// which keeps every item well under DynamoDB's 400 KB limit.
const MaxStored = 300 << 10

// compressAbove is the body size from which the store gzips bodies.
const compressAbove = 16 << 10

// DynamoDBAPI is the part of the DynamoDB client the store uses.
type DynamoDBAPI interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// DynamoStore keeps records in a DynamoDB table whose partition key is PartitionKey and whose
// TTL attribute is TTLAttribute. A first request costs two DynamoDB requests (claim, complete);
// a replay costs one (the losing claim returns the record with ALL_OLD).
type DynamoStore struct {
	client DynamoDBAPI
	table  string
}

var _ Store = (*DynamoStore)(nil)

// NewDynamoStore returns a store over table.
func NewDynamoStore(client DynamoDBAPI, table string) *DynamoStore {
	return &DynamoStore{client: conflictRetrying{client}, table: table}
}

// maxConflictRetries bounds the retries of a write that met a transaction in progress on its
// item (TransactionConflictException, or a TransactionConflict cancellation reason).
const maxConflictRetries = 10

// conflictRetrying retries single-item requests that DynamoDB refused because a transaction was
// writing the same item (a checkout's claim or completion): the SDK does not retry those, and
// they are routine when duplicates of one key arrive together.
type conflictRetrying struct{ DynamoDBAPI }

func retryConflicts[T any](ctx context.Context, call func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		out, err := call()
		var tce *types.TransactionConflictException
		if !errors.As(err, &tce) || attempt >= maxConflictRetries {
			return out, err
		}
		if err := pause(ctx, attempt); err != nil {
			return out, err
		}
	}
}

func (c conflictRetrying) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return retryConflicts(ctx, func() (*dynamodb.PutItemOutput, error) { return c.DynamoDBAPI.PutItem(ctx, in, o...) })
}

func (c conflictRetrying) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return retryConflicts(ctx, func() (*dynamodb.GetItemOutput, error) { return c.DynamoDBAPI.GetItem(ctx, in, o...) })
}

func (c conflictRetrying) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return retryConflicts(ctx, func() (*dynamodb.UpdateItemOutput, error) { return c.DynamoDBAPI.UpdateItem(ctx, in, o...) })
}

func (c conflictRetrying) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return retryConflicts(ctx, func() (*dynamodb.DeleteItemOutput, error) { return c.DynamoDBAPI.DeleteItem(ctx, in, o...) })
}

const (
	attrStatus      = "status"
	attrFingerprint = "fingerprint"
	attrOwner       = "owner"
	attrLease       = "lease_expires_at" // epoch milliseconds
	attrCreated     = "created_at"       // epoch milliseconds
	attrRespStatus  = "response_status"
	attrRespHeader  = "response_headers" // JSON object of header lists
	attrRespBody    = "response_body"    // binary
	attrRespGzip    = "response_gzip"
	attrTooLarge    = "response_too_large"
)

// claimCondition: absent, expired (TTL lags, so expired items may still be there), or an
// in-progress record whose lease has passed.
const claimCondition = "attribute_not_exists(#pk) OR #exp <= :now OR (#st = :inprogress AND #lease <= :nowms)"

func (s *DynamoStore) claimPut(rec Record, now time.Time) *types.Put {
	return &types.Put{
		TableName:           aws.String(s.table),
		Item:                recordItem(rec),
		ConditionExpression: aws.String(claimCondition),
		ExpressionAttributeNames: map[string]string{
			"#pk": PartitionKey, "#exp": TTLAttribute, "#st": attrStatus, "#lease": attrLease,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":        ddb.N(now.Unix()),
			":nowms":      ddb.N(now.UnixMilli()),
			":inprogress": ddb.S(string(InProgress)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// Claim implements Store: one conditional PutItem, or one TransactWriteItems with guards.
func (s *DynamoStore) Claim(ctx context.Context, rec Record, now time.Time, guards ...Write) (*Record, error) {
	rec.Status, rec.Response = InProgress, nil
	put := s.claimPut(rec, now)
	for attempt := 0; ; attempt++ {
		var held map[string]types.AttributeValue
		var err error
		if len(guards) == 0 {
			held, err = s.putClaim(ctx, put)
		} else {
			held, err = s.transactClaim(ctx, put, guards)
		}
		if errors.Is(err, errRetry) && attempt < maxConflictRetries {
			// Another transaction was writing the record, most likely a concurrent claim of
			// the same key: if it committed, it holds the key and this claim has lost.
			if r, gerr := s.Get(ctx, rec.Key, now); gerr == nil && r != nil {
				return r, nil
			}
			if err := pause(ctx, attempt); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil || held == nil {
			return nil, err
		}
		if len(held) == 0 { // an emulator that does not return ALL_OLD: read it instead
			r, err := s.Get(ctx, rec.Key, now)
			if err != nil || r != nil {
				return r, err
			}
			continue // gone in between: claim again
		}
		r, err := itemRecord(held)
		return &r, err
	}
}

var errRetry = errors.New("idem: transaction conflict")

// putClaim returns nil when claimed, or the held item (possibly empty) when the condition failed.
func (s *DynamoStore) putClaim(ctx context.Context, put *types.Put) (map[string]types.AttributeValue, error) {
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ExpressionAttributeNames: put.ExpressionAttributeNames, ExpressionAttributeValues: put.ExpressionAttributeValues,
		ReturnValuesOnConditionCheckFailure: put.ReturnValuesOnConditionCheckFailure,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if ccf.Item == nil {
			return map[string]types.AttributeValue{}, nil
		}
		return ccf.Item, nil
	}
	if err != nil {
		return nil, fmt.Errorf("idem: claim: %w", err)
	}
	return nil, nil
}

func (s *DynamoStore) transactClaim(ctx context.Context, put *types.Put, guards []Write) (map[string]types.AttributeValue, error) {
	items := []types.TransactWriteItem{{Put: put}}
	for _, g := range guards {
		items = append(items, g.Dynamo)
	}
	_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		if err != nil {
			return nil, fmt.Errorf("idem: claim: %w", err)
		}
		return nil, nil
	}
	reasons := tce.CancellationReasons
	if len(reasons) > 0 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
		if reasons[0].Item == nil {
			return map[string]types.AttributeValue{}, nil
		}
		return reasons[0].Item, nil
	}
	for i, r := range reasons {
		switch aws.ToString(r.Code) {
		case "TransactionConflict":
			return nil, errRetry
		case "ConditionalCheckFailed":
			return nil, fmt.Errorf("%w: guard %d", ErrWriteFailed, i-1)
		}
	}
	return nil, fmt.Errorf("idem: claim: %w", err)
}

// Get implements Store with a strongly consistent read.
func (s *DynamoStore) Get(ctx context.Context, key string, now time.Time) (*Record, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{PartitionKey: ddb.S(key)},
		ConsistentRead: aws.Bool(true),
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

// Complete implements Store: UpdateItem conditioned on the owner, or one TransactWriteItems
// with the attached writes.
func (s *DynamoStore) Complete(ctx context.Context, rec Record, writes ...Write) error {
	set := map[string]types.AttributeValue{":completed": ddb.S(string(Completed)), ":owner": ddb.S(rec.Owner), ":inprogress": ddb.S(string(InProgress))}
	expr := "SET #st = :completed, " + attrRespStatus + " = :rs, " + attrTooLarge + " = :tl"
	resp := rec.Response
	if resp == nil {
		resp = &Response{}
	}
	set[":rs"] = ddb.N(int64(resp.Status))
	set[":tl"] = &types.AttributeValueMemberBOOL{Value: resp.TooLarge}
	if !resp.TooLarge {
		body, gz, err := encodeBody(resp.Body)
		if err != nil {
			return err
		}
		hdr, _ := json.Marshal(resp.Header)
		expr += ", " + attrRespHeader + " = :rh, " + attrRespBody + " = :rb, " + attrRespGzip + " = :gz"
		set[":rh"] = ddb.S(string(hdr))
		set[":rb"] = &types.AttributeValueMemberB{Value: append([]byte{}, body...)}
		set[":gz"] = &types.AttributeValueMemberBOOL{Value: gz}
	}
	update := &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       map[string]types.AttributeValue{PartitionKey: ddb.S(rec.Key)},
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("#owner = :owner AND #st = :inprogress"),
		ExpressionAttributeNames:  map[string]string{"#st": attrStatus, "#owner": attrOwner},
		ExpressionAttributeValues: set,
		// On a failed condition, tell "our own earlier attempt already completed it" (the SDK
		// retried a request whose answer was lost) from "someone else holds it now".
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if len(writes) == 0 {
		_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: update.TableName, Key: update.Key, UpdateExpression: update.UpdateExpression,
			ConditionExpression: update.ConditionExpression, ExpressionAttributeNames: update.ExpressionAttributeNames,
			ExpressionAttributeValues:           update.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: update.ReturnValuesOnConditionCheckFailure,
		})
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			if completedBy(ccf.Item, rec.Owner) {
				return nil
			}
			return ErrNotOwner
		}
		if err != nil {
			return fmt.Errorf("idem: complete: %w", err)
		}
		return nil
	}
	items := []types.TransactWriteItem{{Update: update}}
	for _, w := range writes {
		items = append(items, w.Dynamo)
	}
	for attempt := 0; ; attempt++ {
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			if err != nil {
				return fmt.Errorf("idem: complete: %w", err)
			}
			return nil
		}
		retry := false
		for i, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if i == 0 {
					if completedBy(r.Item, rec.Owner) {
						return nil
					}
					return ErrNotOwner
				}
				return fmt.Errorf("%w: write %d", ErrWriteFailed, i-1)
			case "TransactionConflict":
				retry = true
			}
		}
		if !retry || attempt >= maxConflictRetries {
			return fmt.Errorf("idem: complete: %w", err)
		}
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
}

// completedBy reports whether item is a record completed by owner.
func completedBy(item map[string]types.AttributeValue, owner string) bool {
	return ddb.String(item, attrOwner) == owner && ddb.String(item, attrStatus) == string(Completed)
}

// Release implements Store.
func (s *DynamoStore) Release(ctx context.Context, key, owner string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       map[string]types.AttributeValue{PartitionKey: ddb.S(key)},
		ConditionExpression:       aws.String("#owner = :owner AND #st = :inprogress"),
		ExpressionAttributeNames:  map[string]string{"#owner": attrOwner, "#st": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": ddb.S(owner), ":inprogress": ddb.S(string(InProgress))},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrNotOwner
	}
	if err != nil {
		return fmt.Errorf("idem: release: %w", err)
	}
	return nil
}

// pause backs off between transaction-conflict retries: 5 ms doubling to 320 ms, jittered
// (±50 %) so that colliding requests do not collide again.
func pause(ctx context.Context, attempt int) error {
	d := time.Duration(5<<min(attempt, 6)) * time.Millisecond
	t := time.NewTimer(d/2 + rand.N(d))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func recordItem(r Record) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		PartitionKey:    ddb.S(r.Key),
		attrStatus:      ddb.S(string(r.Status)),
		attrFingerprint: ddb.S(r.Fingerprint),
		attrOwner:       ddb.S(r.Owner),
		attrLease:       ddb.N(r.LeaseUntil.UnixMilli()),
		TTLAttribute:    ddb.N(r.ExpiresAt.Unix()),
		attrCreated:     ddb.N(r.CreatedAt.UnixMilli()),
	}
}

func itemRecord(item map[string]types.AttributeValue) (Record, error) {
	r := Record{
		Key:         ddb.String(item, PartitionKey),
		Status:      Status(ddb.String(item, attrStatus)),
		Fingerprint: ddb.String(item, attrFingerprint),
		Owner:       ddb.String(item, attrOwner),
		LeaseUntil:  time.UnixMilli(getN(item, attrLease)),
		ExpiresAt:   time.Unix(getN(item, TTLAttribute), 0),
		CreatedAt:   time.UnixMilli(getN(item, attrCreated)),
	}
	if r.Status != Completed {
		return r, nil
	}
	resp := &Response{Status: int(getN(item, attrRespStatus)), TooLarge: getBool(item, attrTooLarge)}
	if !resp.TooLarge {
		if h := ddb.String(item, attrRespHeader); h != "" && h != "null" {
			if err := json.Unmarshal([]byte(h), &resp.Header); err != nil {
				return r, fmt.Errorf("idem: stored headers of %s: %w", r.Key, err)
			}
		}
		body := getB(item, attrRespBody)
		if getBool(item, attrRespGzip) {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				return r, fmt.Errorf("idem: stored body of %s: %w", r.Key, err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				return r, fmt.Errorf("idem: stored body of %s: %w", r.Key, err)
			}
		}
		resp.Body = body
	}
	r.Response = resp
	return r, nil
}

// encodeBody gzips large bodies; the middleware has already turned bodies too large even
// compressed into TooLarge responses (see fitResponse).
func encodeBody(body []byte) ([]byte, bool, error) {
	if len(body) <= compressAbove {
		return body, false, nil
	}
	z, err := gzipBytes(body)
	return z, true, err
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// getN reads a number attribute; a missing or malformed one reads as 0, which makes a record
// expired and its lease ended, so the key is claimed afresh rather than stuck.
func getN(item map[string]types.AttributeValue, k string) int64 {
	n, _ := ddb.Int(item, k)
	return n
}

func getB(item map[string]types.AttributeValue, k string) []byte {
	if v, ok := item[k].(*types.AttributeValueMemberB); ok {
		return v.Value
	}
	return nil
}

func getBool(item map[string]types.AttributeValue, k string) bool {
	v, ok := item[k].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}
