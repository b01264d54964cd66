// `npm run build:binary [-- OUT_DIR]`: goman as one self-contained executable (docs/operations.md), a Node.js
// single executable application (SEA) for linux-x64, written to dist/goman-linux-x64 (or
// OUT_DIR/goman-linux-x64) with a SHA-256 checksums file, SHA256SUMS, beside it.
//
// How (and why this way):
// - Node 24's SEA main script must be CommonJS, while goman (and ink's yoga-layout) use
//   top-level await, which a CommonJS bundle cannot hold. So esbuild makes one ESM bundle of
//   src/cmd/main.ts, and a tiny CommonJS bootstrap (scripts/sea-bootstrap.cjs) imports it
//   through vm.Script with Node's default loader.
// - goman reads files next to its modules (package.json for the version, dist/console, the
//   recipe data, the node scripts, dist/lambda.zip). Each `import.meta.url`/`dirname` in
//   src/ is rewritten to the same path under one root; the files travel as SEA assets under
//   their repository paths and the bootstrap writes them once to a cache directory keyed by
//   their hash, then imports the bundle from there.
// - The pinned node binary carries debug symbols; `strip` before injection takes it from
//   126.6 MB to 108.5 MB; the gzipped assets add ~3 MB: 111.6 MB, under the 120 MB goal.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bundleLambda } from '../src/cli/aws/lambda-zip.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = path.resolve(process.argv[2] && process.argv[2] !== '--bundle-only' ? process.argv[2] : path.join(ROOT, 'dist'));
const WORK = path.join(OUT_DIR, `sea-build-${process.pid}`);
const TARGET = 'goman-linux-x64';
const NODE = path.join(ROOT, 'node_modules/node/bin/node');
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const started = performance.now();
if (process.argv[2] === '--bundle-only') {
  // `npm pack` (prepack): Node will not strip types under node_modules, so the npm package runs
  // this bundle (bin/goman picks it when installed there); the root is the package itself.
  await writeFile(path.join(ROOT, 'dist/goman.mjs'), await bundleGoman());
  console.log('dist/goman.mjs');
  process.exit(0);
}
if (!existsSync(path.join(ROOT, 'dist/console/index.html'))) throw new Error('dist/console is not built: run `npm run build:console` first');
await rm(WORK, { recursive: true, force: true });
await mkdir(WORK, { recursive: true });

const bundle = await bundleGoman();
// Files goman reads at run time, by their path in the repository.
const files = new Map<string, Buffer>([
  ['goman.mjs', bundle],
  ['package.json', Buffer.from(JSON.stringify({ name: 'goman', version: (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version, type: 'module' }))],
  ['dist/lambda.zip', await bundleLambda()],
]);
for (const dir of ['dist/console', 'src/nodeconfig/data', 'src/providers/aws/scripts']) {
  for (const file of await walk(path.join(ROOT, dir))) files.set(path.relative(ROOT, file), await readFile(file));
}
const hash = createHash('sha256');
for (const [name, contents] of [...files].sort(([a], [b]) => a.localeCompare(b))) hash.update(name).update('\0').update(contents);
// Every asset travels gzipped (the 9.5 MB bundle shrinks to ~2.5 MB): the bootstrap inflates it once.
const manifest = { id: hash.digest('hex').slice(0, 16), files: [...files.keys()], gzip: true };

const assets: Record<string, string> = { 'manifest.json': path.join(WORK, 'manifest.json') };
await writeFile(assets['manifest.json']!, JSON.stringify(manifest));
let n = 0;
for (const [name, contents] of files) {
  const file = path.join(WORK, `asset-${n++}`);
  await writeFile(file, gzipSync(contents, { level: 9 }));
  assets[name] = file;
}
const blob = path.join(WORK, 'sea.blob');
await writeFile(
  path.join(WORK, 'sea-config.json'),
  JSON.stringify({ main: path.join(ROOT, 'scripts/sea-bootstrap.cjs'), output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false, assets }),
);
// Output kept (an error carries it), not printed: strip and LIEF warn about node's note sections.
execFileSync(NODE, ['--experimental-sea-config', path.join(WORK, 'sea-config.json')], { stdio: 'pipe' });

const exe = path.join(OUT_DIR, TARGET);
await copyFile(NODE, exe);
// Debug symbols only: the code and V8's snapshot stay as they are.
execFileSync('strip', [exe], { stdio: 'pipe' });
const postject = path.join(ROOT, 'node_modules/postject/dist/cli.js');
execFileSync(NODE, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL], { stdio: 'pipe' });
const sum = createHash('sha256').update(await readFile(exe)).digest('hex');
await writeFile(path.join(OUT_DIR, 'SHA256SUMS'), `${sum}  ${TARGET}\n`);
await rm(WORK, { recursive: true, force: true });
const size = (await stat(exe)).size;
console.log(`${path.relative(process.cwd(), exe)}: ${(size / 1e6).toFixed(1)} MB (sha256 ${sum}, SHA256SUMS beside it) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

async function bundleGoman(): Promise<Buffer> {
  const esbuild = await import('esbuild');
  const srcDir = path.join(ROOT, 'src');
  const out = await esbuild.build({
    entryPoints: [path.join(srcDir, 'cmd/main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    write: false,
    minify: true,
    outfile: 'goman.mjs',
    // Never loaded by goman: pg's native driver and esbuild (only for building the Lambda zip
    // in a checkout; the binary carries dist/lambda.zip).
    external: ['pg-native', 'esbuild'],
    // A require() for the CommonJS dependencies' Node built-ins, the root the rewritten paths
    // below start from (the bundle's parent folder unless the SEA bootstrap set one), and the
    // bundle's own URL.
    banner: {
      js: [
        "import { createRequire as __gomanCreateRequire } from 'node:module';",
        "import { fileURLToPath as __gomanFileURLToPath } from 'node:url';",
        'const require = __gomanCreateRequire(import.meta.url);',
        "import { workerData as __gomanWorkerData } from 'node:worker_threads';",
        // A worker thread gets the root from the thread that started it (relay-thread.ts).
        "globalThis.__gomanRootUrl ??= __gomanWorkerData?.gomanRootUrl ?? new URL('../', import.meta.url).href;",
        'globalThis.__gomanRoot ??= __gomanFileURLToPath(globalThis.__gomanRootUrl);',
        // goman's worker threads run this same bundle (src/cmd/relay-thread.ts).
        'globalThis.__gomanBundleUrl ??= import.meta.url;',
      ].join(' '),
    },
    plugins: [
      {
        // ink imports its React devtools hook (only used under DEV=true) statically once bundled.
        name: 'no-react-devtools',
        setup(build) {
          build.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'stub' }));
          build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export default { initialize() {}, connectToDevTools() {} };', loader: 'js' }));
        },
      },
      {
        name: 'goman-root-paths',
        setup(build) {
          build.onLoad({ filter: /[\\/]src[\\/].*\.tsx?$/ }, async (args) => {
            const source = await readFile(args.path, 'utf8');
            const rel = path.relative(ROOT, args.path).split(path.sep).join('/');
            // The Lambda bundle's banner quotes `import.meta` in a string: that line stays as it is.
            const contents = source
              .split('\n')
              .map((line) =>
                line.includes('__gomanCreateRequire')
                  ? line
                  : line
                      .replace(/\bimport\.meta\.url\b/g, `(globalThis.__gomanRootUrl + ${JSON.stringify(rel)})`)
                      .replace(/\bimport\.meta\.dirname\b/g, `(globalThis.__gomanRoot + ${JSON.stringify(path.posix.dirname(rel))})`),
              )
              .join('\n');
            return { contents, loader: args.path.endsWith('x') ? 'tsx' : 'ts' };
          });
        },
      },
    ],
    logLevel: 'warning',
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error('esbuild produced no bundle');
  return Buffer.from(file.contents);
}

async function walk(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walk(full)));
    else if (entry.isFile()) found.push(full);
  }
  return found.sort();
}
