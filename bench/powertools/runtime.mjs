// A minimal Lambda runtime client for Node, speaking the Runtime API (2018-06-01) at
// AWS_LAMBDA_RUNTIME_API: import the handler (init), then loop: GET .../invocation/next, call
// the handler with the event and a context, POST .../response or .../error. make bench starts
// it as the Node function's bootstrap, against the same fake Runtime API (cmd/loadgen/coldstart)
// that the Go function's aws-lambda-go runtime client talks to.
import http from 'node:http';

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = '/2018-06-01/runtime';

const request = (method, path, body) =>
  new Promise((resolve, reject) => {
    const [host, port] = api.split(':');
    const req = http.request({ host, port, method, path: base + path, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) {
      req.setHeader('content-type', 'application/json');
      req.end(body);
    } else {
      req.end();
    }
  });

const errorBody = (err) => JSON.stringify({ errorType: err?.name ?? 'Error', errorMessage: String(err?.message ?? err) });

let handler;
try {
  ({ handler } = await import(new URL(process.env._HANDLER ?? './handler.mjs', import.meta.url)));
} catch (err) {
  await request('POST', '/init/error', errorBody(err));
  process.exit(1);
}

for (;;) {
  const next = await request('GET', '/invocation/next');
  if (next.status !== 200) process.exit(0);
  const id = next.headers['lambda-runtime-aws-request-id'];
  const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
  globalThis.benchRequestId = id;
  const context = {
    awsRequestId: id,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  try {
    const result = await handler(JSON.parse(next.body), context);
    await request('POST', `/invocation/${id}/response`, JSON.stringify(result));
  } catch (err) {
    await request('POST', `/invocation/${id}/error`, errorBody(err));
  }
}
