// Package secrets reads secret values from AWS Secrets Manager at run time, so that a deployed
// function's configuration holds only the ARN of each secret, never its value, and a rotation
// takes effect without a redeploy.
//
// [Client] is one signed GetSecretValue request over net/http and the SDK's SigV4 signer, which
// the DynamoDB client links anyway: the Secrets Manager SDK client would add its serializers
// for every operation to each bootstrap. [Value] caches one secret for the life of the
// container and re-reads it when it is older than a maximum age, or when its user asks after a
// failure that a new value might explain (a webhook signature that matches no secret); re-reads
// are rate-limited so that a flood of forged requests cannot turn into a flood of API calls.
package secrets
