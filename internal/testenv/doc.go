// Package testenv gives tests the real components they run against: DynamoDB Local,
// stripe-mock and the official Lambda Runtime Interface Emulator (StartRIE), plus an HTTP
// stand-in for Secrets Manager (NewSecretsManager) and a recorder of the DynamoDB actions a
// client performs (DynamoActions). Each is started once per test binary (the emulator once per
// test) on a free loopback port (or taken from DYNAMODB_ENDPOINT / STRIPE_MOCK_URL), and stopped
// by Main. Under CI=true a component that cannot start fails the test instead of skipping it.
//
// A package that uses it declares
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
package testenv
