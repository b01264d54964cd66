// The ClusterBackend contract over HTTP, against a live `goman serve` (its own data dir and port).
import { ServerBackend } from '../../src/client/http-backend.ts';
import { startServe } from '../helpers/serve.ts';
import { backendContract } from './backend-contract.ts';

// No controllers: their status reports move resourceVersion between a test's read and its
// conditional write, and the contract is about the backend, not about what controllers do (the S3
// run has none either).
backendContract('http (goman serve)', async () => {
  const srv = await startServe({ args: ['--no-controllers'] });
  return { backend: new ServerBackend({ server: srv.url, token: srv.token }), provider: 'sim', cleanup: () => srv.stop() };
});
