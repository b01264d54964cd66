// Files goman writes land whole, through temp files nobody can predict or pre-plant, and
// failures name the path the user gave.
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, test } from 'node:test';
import { FileError, makeDirectory, namingFlag, withFileLock, writeFileAtomic } from '../../src/util/files.ts';

const root = await mkdtemp(path.join(tmpdir(), 'goman-files-'));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;
const freshDir = async (): Promise<string> => {
  const d = path.join(root, String(n++));
  await makeDirectory(d);
  return d;
};

test('an atomic write never follows a link planted where its temp file could be', async () => {
  const dir = await freshDir();
  const victim = path.join(dir, 'victim');
  await writeFile(victim, 'precious');
  const target = path.join(dir, 'out.yaml');
  // Every name an earlier goman used for its temp file: NAME.tmp-PID, NAME.PID.tmp, NAME.PID.TIME.tmp.
  for (const name of [`out.yaml.tmp-${process.pid}`, `out.yaml.${process.pid}.tmp`]) await symlink(victim, path.join(dir, name));
  await writeFileAtomic(target, 'new content', { mode: 0o600 });
  assert.equal(await readFile(victim, 'utf8'), 'precious', 'the link target is untouched');
  assert.equal(await readFile(target, 'utf8'), 'new content');
  assert.equal((await stat(target)).mode & 0o777, 0o600);
  assert.ok((await lstat(target)).isFile());
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), [`out.yaml.${process.pid}.tmp`], 'no temp file of ours is left behind');
});

test('a write into a missing folder names the file and the folder, never a temp name', async () => {
  const file = path.join(root, 'no-such-dir', 'x.yaml');
  await assert.rejects(namingFlag('--file', writeFileAtomic(file, 'x')), (e: unknown) => {
    assert.ok(e instanceof FileError);
    assert.equal(e.message, `--file: cannot write ${file}: its folder ${path.dirname(file)} does not exist`);
    return true;
  });
});

test('making a folder refuses a file in the way and a parent that takes no children, without spinning', async () => {
  const dir = await freshDir();
  const file = path.join(dir, 'file.txt');
  await writeFile(file, 'x');
  await assert.rejects(makeDirectory(file), /cannot use .*file\.txt as a folder: it is a file/);
  await assert.rejects(makeDirectory(path.join(file, 'sub')), /a part of the path is a file/);
  // Node's recursive mkdir loops forever here; ours makes each folder once and gives up.
  await assert.rejects(makeDirectory('/proc/goman-nope/x'), /cannot create folder \/proc\/goman-nope\/x: \/proc does not accept new folders/);
  await makeDirectory(path.join(dir, 'a', 'b', 'c'), 0o700);
  assert.equal((await stat(path.join(dir, 'a', 'b', 'c'))).mode & 0o777, 0o700);
});

test('a file lock serialises read-modify-write cycles', async () => {
  const dir = await freshDir();
  const file = path.join(dir, 'counter');
  await writeFile(file, '0');
  await Promise.all(
    Array.from({ length: 20 }, () =>
      withFileLock(file, async () => {
        const v = Number(await readFile(file, 'utf8'));
        await new Promise((r) => setImmediate(r));
        await writeFileAtomic(file, String(v + 1));
      }),
    ),
  );
  assert.equal(await readFile(file, 'utf8'), '20');
  assert.deepEqual(await readdir(dir), ['counter'], 'the lock file is gone');
});

test('a lock left by a process that is gone is taken over at once; a live one is waited for', async () => {
  const dir = await freshDir();
  const file = path.join(dir, 'config.yaml');
  const gone = spawnSync('true').pid;
  await writeFile(`${file}.lock`, `${gone} ${hostname()}\n`);
  assert.equal(await withFileLock(file, async () => 'ran', { timeoutMs: 5_000 }), 'ran');
  await writeFile(`${file}.lock`, `${process.pid} ${hostname()}\n`);
  await assert.rejects(withFileLock(file, async () => 'ran', { timeoutMs: 200 }), /is locked by another goman process; if none is running, remove .*config\.yaml\.lock/);
});
