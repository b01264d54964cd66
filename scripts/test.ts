// `npm test`: every test file under test/, run by node's test runner. Files run in parallel
// subprocesses; each one isolates itself (own SQLite file, own PostgreSQL database, own
// NATS stream names, own moto port), so the order never matters.
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const files = globSync('test/**/*.test.ts').sort();
const only = process.argv.slice(2);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--disable-warning=ExperimentalWarning', '--test', `--test-concurrency=${process.env.GOMAN_TEST_CONCURRENCY ?? 4}`, '--test-timeout=300000', ...selected],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
