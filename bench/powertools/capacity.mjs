// The bench's instrumentation of a DynamoDB client, the twin of internal/ddb/capacity: ask
// DynamoDB for the consumed capacity of every request and write one line per request to
// standard error (BENCHDDB and JSON: the invocation, the operation, what DynamoDB returned, and
// the item sizes needed to cost what it did not return).
import { writeSync } from 'node:fs';

const takesCapacity = new Set([
  'PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'GetItemCommand', 'QueryCommand',
  'ScanCommand', 'BatchGetItemCommand', 'BatchWriteItemCommand', 'TransactGetItemsCommand',
  'TransactWriteItemsCommand',
]);

const numberSize = (s) => {
  if (Number(s) === 0) return 1;
  const digits = s.replace(/[^0-9]/g, '').length;
  return Math.floor((digits + 1) / 2) + 1;
};

const valueSize = (v) => {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (v.NS) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((n, b) => n + b.length, 0);
  if (v.L) return v.L.reduce((n, e) => n + 1 + valueSize(e), 3);
  if (v.M) return Object.entries(v.M).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + valueSize(e), 3);
  return 0;
};

// itemSize follows DynamoDB's documented rules, as capacity.ItemSize does.
export const itemSize = (item) =>
  Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueSize(v), 0);

const returned = (cc) => {
  const list = cc === undefined ? [] : Array.isArray(cc) ? cc : [cc];
  if (list.length === 0) return { cu: -1 };
  return list.reduce(
    (t, c) => ({
      cu: t.cu + (c.CapacityUnits ?? 0),
      rcu: t.rcu + (c.ReadCapacityUnits ?? 0),
      wcu: t.wcu + (c.WriteCapacityUnits ?? 0),
    }),
    { cu: 0, rcu: 0, wcu: 0 }
  );
};

export const countCapacity = (client) => {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName;
      const op = name.replace(/Command$/, '');
      const input = args.input;
      if (takesCapacity.has(name)) input.ReturnConsumedCapacity = 'TOTAL';
      const call = { rid: globalThis.benchRequestId, op, ok: true, cu: -1 };
      if (name === 'PutItemCommand') call.put = [itemSize(input.Item)];
      if (name === 'TransactWriteItemsCommand') {
        call.put = input.TransactItems.map((t) => (t.Put ? itemSize(t.Put.Item) : -1));
      }
      try {
        const out = await next(args);
        Object.assign(call, returned(out.output.ConsumedCapacity));
        return out;
      } catch (err) {
        call.ok = false;
        call.err = err.name;
        if (err.name === 'ConditionalCheckFailedException') call.old = [err.Item ? itemSize(err.Item) : -1];
        if (err.CancellationReasons) call.old = err.CancellationReasons.map((r) => (r.Item ? itemSize(r.Item) : -1));
        throw err;
      } finally {
        writeSync(2, `BENCHDDB ${JSON.stringify(call)}\n`);
      }
    },
    { step: 'initialize', name: 'benchConsumedCapacity' }
  );
};
