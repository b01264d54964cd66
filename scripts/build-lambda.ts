// `npm run build:lambda`: bundle src/cmd/lambda.ts into dist/lambda.zip for `goman init`.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleLambda, LAMBDA_ZIP } from '../src/cli/aws/lambda-zip.ts';

const zip = await bundleLambda();
await mkdir(path.dirname(LAMBDA_ZIP), { recursive: true });
const tmp = `${LAMBDA_ZIP}.${process.pid}.tmp`;
await writeFile(tmp, zip);
await rename(tmp, LAMBDA_ZIP);
console.log(`${path.relative(process.cwd(), LAMBDA_ZIP)}: ${zip.length} bytes`);
