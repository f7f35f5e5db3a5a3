// Package ddb builds the DynamoDB client the functions, the local server and the tests share:
// endpoint overrides for DynamoDB Local, dummy credentials when none are configured, a request
// counter for benchmarks, and idempotent table creation from the same definitions template.yaml
// declares.
package ddb
