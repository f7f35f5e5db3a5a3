package ddb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Table describes a table with a single string partition key, the only shape this project uses,
// and its global secondary indexes.
type Table struct {
	Name         string
	PartitionKey string
	TTLAttribute string  // "" for no TTL
	Indexes      []Index // global secondary indexes, projecting every attribute
}

// Index is a global secondary index with a string partition key and a string sort key.
type Index struct {
	Name, PartitionKey, SortKey string
}

// Ensure creates the table when it is missing (on-demand billing), waits until it is active and
// turns TTL on; on an existing table it adds the indexes it lacks. It is safe to call on every
// start.
func Ensure(ctx context.Context, c *dynamodb.Client, t Table) error {
	attrs := map[string]bool{t.PartitionKey: true}
	defs := []types.AttributeDefinition{{AttributeName: aws.String(t.PartitionKey), AttributeType: types.ScalarAttributeTypeS}}
	var gsis []types.GlobalSecondaryIndex
	for _, ix := range t.Indexes {
		for _, a := range []string{ix.PartitionKey, ix.SortKey} {
			if !attrs[a] {
				attrs[a] = true
				defs = append(defs, types.AttributeDefinition{AttributeName: aws.String(a), AttributeType: types.ScalarAttributeTypeS})
			}
		}
		gsis = append(gsis, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:              aws.String(t.Name),
		BillingMode:            types.BillingModePayPerRequest,
		AttributeDefinitions:   defs,
		KeySchema:              []types.KeySchemaElement{{AttributeName: aws.String(t.PartitionKey), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: gsis,
	})
	created := err == nil
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("ddb: create table %s: %w", t.Name, err)
	}
	// Poll briefly: the SDK's default first wait is 20 s, and DynamoDB Local reports a table
	// with indexes as CREATING for a moment.
	waiter := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Name)}, 30*time.Second); err != nil {
		return fmt.Errorf("ddb: wait for table %s: %w", t.Name, err)
	}
	if !created {
		if err := addIndexes(ctx, c, t.Name, defs, gsis); err != nil {
			return err
		}
	}
	if t.TTLAttribute == "" || !created { // an existing table keeps its TTL setting
		return nil
	}
	_, err = c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(t.Name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(t.TTLAttribute), Enabled: aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("ddb: enable TTL on %s: %w", t.Name, err)
	}
	return nil
}

// addIndexes creates the indexes of gsis that table lacks (a table made by an older version).
func addIndexes(ctx context.Context, c *dynamodb.Client, table string, defs []types.AttributeDefinition, gsis []types.GlobalSecondaryIndex) error {
	if len(gsis) == 0 {
		return nil
	}
	out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("ddb: describe table %s: %w", table, err)
	}
	have := map[string]bool{}
	for _, g := range out.Table.GlobalSecondaryIndexes {
		have[aws.ToString(g.IndexName)] = true
	}
	for _, g := range gsis {
		if have[aws.ToString(g.IndexName)] {
			continue
		}
		_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            aws.String(table),
			AttributeDefinitions: defs,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection,
			}}},
		})
		if err != nil {
			return fmt.Errorf("ddb: add index %s to %s: %w", aws.ToString(g.IndexName), table, err)
		}
	}
	return nil
}
