// `npm run build:lambda`: bundle src/cmd/lambda.ts into dist/lambda.zip for `goman init`.
import path from 'node:path';
import { bundleLambda, LAMBDA_ZIP } from '../src/cli/aws/lambda-zip.ts';
import { makeDirectory, writeFileAtomic } from '../src/util/files.ts';

const zip = await bundleLambda();
await makeDirectory(path.dirname(LAMBDA_ZIP));
await writeFileAtomic(LAMBDA_ZIP, zip);
console.log(`${path.relative(process.cwd(), LAMBDA_ZIP)}: ${zip.length} bytes`);
