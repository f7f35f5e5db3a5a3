package idem

import "github.com/checkout-idem/checkout/internal/ddb"

// Attribute names of an idempotency record in DynamoDB. template.yaml declares the same
// partition key and TTL attribute; a test keeps them in agreement.
const (
	PartitionKey = "pk"         // S: hex SHA-256 of scope, caller and client key
	TTLAttribute = "expires_at" // N: epoch seconds; DynamoDB's TTL deletes the record some time after
)

// Table returns the definition of an idempotency table named name.
func Table(name string) ddb.Table {
	return ddb.Table{Name: name, PartitionKey: PartitionKey, TTLAttribute: TTLAttribute}
}
