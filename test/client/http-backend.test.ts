// The ClusterBackend contract over HTTP, against a live `goman serve` (its own data dir and port).
import { ServerBackend } from '../../src/client/http-backend.ts';
import { startServe } from '../helpers/serve.ts';
import { backendContract } from './backend-contract.ts';

backendContract('http (goman serve)', async () => {
  const srv = await startServe();
  return { backend: new ServerBackend({ server: srv.url, token: srv.token }), provider: 'sim', cleanup: () => srv.stop() };
});
