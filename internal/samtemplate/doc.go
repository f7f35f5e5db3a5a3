// Package samtemplate keeps template.yaml and the code in agreement: Functions (one row per
// Lambda function: routes, variables, secrets, the DynamoDB actions its code uses) is checked
// against the template by this package's tests, and against what the handlers really do by
// the functions' tests.
package samtemplate
