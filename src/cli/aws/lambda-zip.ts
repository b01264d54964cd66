// The Lambda deployment package: src/cmd/lambda.ts bundled by esbuild into one ESM file, zipped.
// `npm run build:lambda` writes it to dist/lambda.zip; `goman init` uses that file, or builds
// it on the spot when running from a source checkout.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SCRIPT_DIR } from '../../providers/aws/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
export const LAMBDA_ENTRY = path.join(ROOT, 'src/cmd/lambda.ts');
export const LAMBDA_ZIP = path.join(ROOT, 'dist/lambda.zip');
/** Lambda's Node.js runtime the bundle targets. */
export const LAMBDA_RUNTIME = 'nodejs22.x';

export async function bundleLambda(): Promise<Buffer> {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    entryPoints: [LAMBDA_ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    write: false,
    minify: true,
    sourcemap: false,
    outfile: 'index.mjs',
    // Packages that only the CLI/TUI/server pull in through shared modules.
    external: ['pg-native'],
    // CommonJS dependencies (the AWS SDK's) call require() for Node built-ins, which an ESM
    // bundle lacks: give them one.
    banner: { js: "import { createRequire as __gomanCreateRequire } from 'node:module'; const require = __gomanCreateRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error('esbuild produced no output for the Lambda handler');
  // The node scripts are read at run time from `scripts/` next to the module (see SCRIPT_DIR).
  const files: [string, Buffer][] = [['index.mjs', Buffer.from(file.contents)]];
  for (const name of (await readdir(SCRIPT_DIR)).filter((f) => f.endsWith('.sh')).sort()) {
    files.push([`scripts/${name}`, await readFile(path.join(SCRIPT_DIR, name))]);
  }
  return zipFiles(files);
}

async function zipFiles(files: [string, Buffer][]): Promise<Buffer> {
  const { ZipFile } = await import('yazl');
  const zip = new ZipFile();
  // A fixed mtime keeps the zip byte-identical across builds.
  for (const [name, contents] of files) zip.addBuffer(contents, name, { mtime: new Date('2020-01-01T00:00:00Z'), mode: 0o644 });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** dist/lambda.zip when built, else a fresh bundle (needs esbuild, a dev dependency). */
export async function loadLambdaZip(): Promise<Buffer> {
  if (existsSync(LAMBDA_ZIP)) return readFile(LAMBDA_ZIP);
  return bundleLambda();
}
