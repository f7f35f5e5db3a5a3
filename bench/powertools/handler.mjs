// The checkout job written with Powertools for AWS Lambda (TypeScript) idempotency, as its
// documentation shows (makeIdempotent around the handler, DynamoDBPersistenceLayer, the key
// from a header, payload validation on the body): claim the key, charge the provider with a
// key derived from it, write the order with a conditional put, store the answer.
// make bench runs it beside functions/checkout, on the same Runtime API, DynamoDB and provider.
import { createHash } from 'node:crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { countCapacity } from './capacity.mjs';

// AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local) and the Region come from the environment.
const client = new DynamoDBClient({});
countCapacity(client); // the bench's instrumentation: the same middleware as the Go side's
const documents = DynamoDBDocumentClient.from(client);

const persistenceStore = new DynamoDBPersistenceLayer({
  tableName: process.env.IDEMPOTENCY_TABLE,
  awsSdkV3Client: client,
});
const config = new IdempotencyConfig({
  eventKeyJmesPath: 'headers."idempotency-key"',
  payloadValidationJmesPath: 'body',
  throwOnNoIdempotencyKey: true,
});

const ordersTable = process.env.ORDERS_TABLE;
const stripeBase = process.env.STRIPE_API_BASE;
const stripeKey = process.env.STRIPE_SECRET_KEY;

const answer = (statusCode, body) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

// charge creates a PaymentIntent with an idempotency key derived from the order, as the Go
// function does (a retry can never create a second one).
const charge = async (orderId, req) => {
  const form = new URLSearchParams({
    amount: String(req.amount),
    currency: req.currency,
    'metadata[order_id]': orderId,
    payment_method: req.payment_method,
    'payment_method_types[0]': 'card',
    confirm: 'true',
  });
  const res = await fetch(`${stripeBase}/v1/payment_intents`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stripeKey}`,
      'content-type': 'application/x-www-form-urlencoded',
      'idempotency-key': `checkout-${orderId}`,
    },
    body: form,
  });
  if (!res.ok) throw new Error(`payment provider answered ${res.status}`);
  return res.json();
};

const checkout = async (event) => {
  const key = event.headers['idempotency-key'];
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body;
  const req = JSON.parse(raw);
  if (!Number.isInteger(req.amount) || req.amount < 1 || typeof req.currency !== 'string') {
    return answer(400, { type: '/problems/invalid-request' });
  }
  const orderId = `ord_${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
  const pi = await charge(orderId, req);
  const now = new Date().toISOString();
  const status = pi.status === 'succeeded' ? 'paid' : 'pending';
  await documents.send(
    new PutCommand({
      TableName: ordersTable,
      Item: {
        order_id: orderId,
        items: req.items, // the cart as sent (the peer measures idempotency, not pricing)
        amount: req.amount,
        currency: req.currency,
        status,
        payment_intent_id: pi.id,
        created_at: now,
        updated_at: now,
      },
      ConditionExpression: 'attribute_not_exists(order_id)',
    })
  );
  return answer(201, {
    order_id: orderId,
    status,
    amount: req.amount,
    currency: req.currency,
    payment_intent_id: pi.id,
  });
};

export const handler = makeIdempotent(checkout, { persistenceStore, config });
