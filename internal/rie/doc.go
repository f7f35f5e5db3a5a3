// Package rie holds the emulator test: both real bootstraps, built by the Makefile's Lambda
// targets for the host architecture, run under the official AWS Lambda Runtime Interface
// Emulator (aws-lambda-rie, what `sam local` runs in its containers) with the payloads of
// events/, against DynamoDB Local. `make emulator` runs it; `make test` too.
package rie
