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
  return { leases: new DynamoLeaseStore(ddb, { table }), cleanup: () => moto.stop() };
});
