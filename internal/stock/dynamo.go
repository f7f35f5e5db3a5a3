package stock

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
)

// Take returns the transaction item that takes d from its shard in table, on condition that the
// shard holds at least d.Units (never below zero). On a failed condition DynamoDB returns the
// shard as it stood (ALL_OLD), which tells a planner its units.
func Take(table string, d Draw) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                           aws.String(table),
		Key:                                 map[string]types.AttributeValue{KeyAttribute: ddb.S(d.Key())},
		UpdateExpression:                    aws.String("SET #u = #u - :n"),
		ConditionExpression:                 aws.String("#u >= :n"),
		ExpressionAttributeNames:            map[string]string{"#u": UnitsAttribute},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":n": ddb.N(int64(d.Units))},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// PutBack returns the transaction item that puts d back into its shard in table.
func PutBack(table string, d Draw) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{KeyAttribute: ddb.S(d.Key())},
		UpdateExpression:          aws.String("ADD #u :n SET #of = :sku"),
		ExpressionAttributeNames:  map[string]string{"#u": UnitsAttribute, "#of": SKUAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": ddb.N(int64(d.Units)), ":sku": ddb.S(d.SKU)},
	}}
}

// UnitsOf reads the units of a shard item (as returned with ALL_OLD); false when absent.
func UnitsOf(item map[string]types.AttributeValue) (int, bool) {
	n, err := ddb.Int(item, UnitsAttribute)
	return int(n), err == nil
}
