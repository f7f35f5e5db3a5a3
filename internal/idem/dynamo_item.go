package idem

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
)

// Attributes of a record besides PartitionKey and TTLAttribute (see table.go).
const (
	attrStatus      = "status"
	attrFingerprint = "fingerprint"
	attrOwner       = "owner"
	attrLease       = "lease_expires_at" // N: epoch milliseconds
	attrCreated     = "created_at"       // N: epoch milliseconds
	attrRespStatus  = "response_status"
	attrRespHeader  = "response_headers" // S: JSON object of header lists
	attrRespBody    = "response_body"    // B
	attrRespGzip    = "response_gzip"
	attrTooLarge    = "response_too_large"
)

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

// completedItem is rec (the record as claimed), completed with its response: the whole item
// the completion puts. The size policy is encodeBody's.
func completedItem(rec Record) map[string]types.AttributeValue {
	item, resp := recordItem(rec), rec.Response
	if resp == nil {
		resp = &Response{}
	}
	body, gz, tooLarge := encodeBody(resp.Body)
	tooLarge = tooLarge || resp.TooLarge
	item[attrStatus] = ddb.S(string(Completed))
	item[attrRespStatus] = ddb.N(int64(resp.Status))
	item[attrTooLarge] = &types.AttributeValueMemberBOOL{Value: tooLarge}
	if !tooLarge {
		hdr, _ := json.Marshal(resp.Header) // a map of string lists always marshals
		item[attrRespHeader] = ddb.S(string(hdr))
		item[attrRespBody] = &types.AttributeValueMemberB{Value: append([]byte{}, body...)}
		item[attrRespGzip] = &types.AttributeValueMemberBOOL{Value: gz}
	}
	return item
}

// itemRecord decodes a stored record. A missing or malformed number reads as 0, which makes the
// record expired and its lease ended, so the key is claimed afresh rather than stuck.
func itemRecord(item map[string]types.AttributeValue) (Record, error) {
	num := func(k string) int64 { n, _ := ddb.Int(item, k); return n }
	r := Record{
		Key:         ddb.String(item, PartitionKey),
		Status:      Status(ddb.String(item, attrStatus)),
		Fingerprint: ddb.String(item, attrFingerprint),
		Owner:       ddb.String(item, attrOwner),
		LeaseUntil:  time.UnixMilli(num(attrLease)),
		ExpiresAt:   time.Unix(num(TTLAttribute), 0),
		CreatedAt:   time.UnixMilli(num(attrCreated)),
	}
	if r.Status != Completed {
		return r, nil
	}
	resp := &Response{Status: int(num(attrRespStatus)), TooLarge: boolAttr(item, attrTooLarge)}
	r.Response = resp
	if resp.TooLarge {
		return r, nil
	}
	if h := ddb.String(item, attrRespHeader); h != "" && h != "null" {
		if err := json.Unmarshal([]byte(h), &resp.Header); err != nil {
			return r, fmt.Errorf("idem: stored headers of %s: %w", r.Key, err)
		}
	}
	body, _ := item[attrRespBody].(*types.AttributeValueMemberB)
	if body != nil {
		resp.Body = body.Value
	}
	if boolAttr(item, attrRespGzip) {
		zr, err := gzip.NewReader(bytes.NewReader(resp.Body))
		if err == nil {
			resp.Body, err = io.ReadAll(zr)
		}
		if err != nil {
			return r, fmt.Errorf("idem: stored body of %s: %w", r.Key, err)
		}
	}
	return r, nil
}

func boolAttr(item map[string]types.AttributeValue, k string) bool {
	v, ok := item[k].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}
