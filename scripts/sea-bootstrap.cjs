// The main script of the goman single executable (scripts/build-binary.ts). A SEA main must be
// CommonJS, and goman is ESM with top-level await: so this writes the embedded files once to
// a cache directory named by their hash (the ESM bundle and the files it reads next to
// itself), then imports the bundle with Node's own loader through vm.Script.
'use strict';
const { Buffer } = require('node:buffer');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const process = require('node:process');
const sea = require('node:sea');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');
const zlib = require('node:zlib');

const manifest = JSON.parse(sea.getAsset('manifest.json', 'utf8'));
const cacheHome = process.env.XDG_CACHE_HOME || (process.env.HOME ? path.join(process.env.HOME, '.cache') : os.tmpdir());
const root = path.join(cacheHome, 'goman', `binary-${manifest.id}`);

if (!fs.existsSync(path.join(root, 'goman.mjs'))) {
  // Written beside, then renamed: a second goman starting at the same time never sees half a tree.
  const staging = `${root}.${process.pid}.tmp`;
  for (const name of manifest.files) {
    const file = path.join(staging, name);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const raw = Buffer.from(sea.getRawAsset(name));
    fs.writeFileSync(file, manifest.gzip ? zlib.gunzipSync(raw) : raw);
  }
  try {
    fs.renameSync(staging, root);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(path.join(root, 'goman.mjs'))) throw e;
  }
}

// The launcher runs goman with --disable-warning=ExperimentalWarning; so does the binary (the
// default loader for vm.Script is one, type stripping is not needed here).
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
  if (type !== 'ExperimentalWarning' && !(warning && warning.name === 'ExperimentalWarning')) emitWarning.call(process, warning, ...rest);
};

globalThis.__gomanRoot = `${root}/`;
globalThis.__gomanRootUrl = pathToFileURL(`${root}/`).href;
const entry = pathToFileURL(path.join(root, 'goman.mjs')).href;
new vm.Script(`import(${JSON.stringify(entry)})`, { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER })
  .runInThisContext()
  .catch((e) => {
    process.stderr.write(`goman: cannot start: ${e && e.message ? e.message : String(e)}\n`);
    process.exit(1);
  });
