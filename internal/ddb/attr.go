package ddb

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// S returns a string attribute value.
func S(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// N returns a number attribute value.
func N(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// String returns the string attribute k of item, or "" when it is missing or not a string.
func String(item map[string]types.AttributeValue, k string) string {
	if v, ok := item[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// Int returns the number attribute k of item as an integer.
func Int(item map[string]types.AttributeValue, k string) (int64, error) {
	v, ok := item[k].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("%s: missing or not a number", k)
	}
	return strconv.ParseInt(v.Value, 10, 64)
}
