// Package awsenv reads what the Lambda runtime puts in the environment for the AWS clients the
// functions build without the SDK's config package (which links the SSO, STS and IMDS clients
// and adds about 1.8 MB to each bootstrap): the Region and the execution role's credentials.
package awsenv

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Lambda returns the Region (AWS_REGION, else AWS_DEFAULT_REGION) and the credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, valid for the life of the
// execution environment) of a client. A client of another endpoint (DynamoDB Local under `sam
// local`, a stand-in in tests) gets us-east-1 and dummy credentials when the environment has
// none.
func Lambda(endpoint string) (region string, creds aws.CredentialsProvider) {
	region = os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if endpoint != "" {
		if region == "" {
			region = "us-east-1"
		}
		if id == "" {
			id, secret = "local", "local"
		}
	}
	return region, aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")))
}
