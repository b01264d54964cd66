// `node src/cmd/nodeconfig.ts`: a stand-alone entry for the node-configuration commands; the benchmark runs it as a
// subprocess, and it works wherever the full `goman` CLI is not wanted.
import { Command } from 'commander';
import { isGomanError } from '../domain/errors.ts';
import { registerNodeConfigCommands } from '../nodeconfig/cli.ts';

const program = new Command('goman').exitOverride();
registerNodeConfigCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (isGomanError(e)) {
    const detail = e.errors?.length ? `: ${e.errors.map((f) => `${f.path}: ${f.message}`).join('; ')}` : '';
    console.error(`goman: ${e.message}${detail}`);
    process.exitCode = e.code === 'VALIDATION_FAILED' ? 2 : e.code === 'NOT_FOUND' ? 3 : 1;
  } else if (e && typeof e === 'object' && 'exitCode' in e && typeof e.exitCode === 'number') {
    process.exitCode = e.exitCode; // commander has already printed its usage message
  } else {
    throw e;
  }
}
