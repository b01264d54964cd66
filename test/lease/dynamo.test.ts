// The lease contract on DynamoDB (the serverless topology), against moto with the real SDK.
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { createAwsClients } from '../../src/aws/clients.ts';
import { DynamoLeaseStore } from '../../src/lease/dynamo-leases.ts';
import { startMoto, useMotoEnv } from '../helpers/moto.ts';
import { leaseContract } from './contract.ts';

leaseContract('dynamodb', async () => {
  const moto = await startMoto();
  if (!moto) throw new Error('moto is required');
  useMotoEnv(moto);
  const ddb = createAwsClients('ap-south-1').dynamo();
  const table = 'goman-resource-locks';
  await ddb.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'resource_id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'resource_id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  // moto evaluates a ConditionExpression and then writes, in two steps on a threaded server, so two
  // conditional writes racing on one item can both succeed; real DynamoDB decides them atomically.
  // Sending this client's requests one at a time gives back that one guarantee (every request still
  // goes to moto with its condition) for the concurrent-acquirers test.
  let tail: Promise<unknown> = Promise.resolve();
  ddb.middlewareStack.add(
    (next) => (args) => {
      const run = tail.then(() => next(args));
      tail = run.catch(() => undefined);
      return run;
    },
    { step: 'initialize', name: 'oneRequestAtATime' },
  );
  return { leases: new DynamoLeaseStore(ddb, { table }), cleanup: () => moto.stop() };
});
