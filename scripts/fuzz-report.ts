// Reads schemathesis HAR files and prints how many requests were made and how they were
// answered; exits 1 when more than the allowed share were 401/403 (the run's credential stopped
// working, or auth refused what it should not), or when nothing was sent at all.
//   node scripts/fuzz-report.ts [--max-auth-share 0.05] FILE.har...
import { createReadStream } from 'node:fs';

const args = process.argv.slice(2);
let maxShare = 0.05;
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--max-auth-share') maxShare = Number(args[++i]);
  else files.push(args[i]!);
}

/**
 * Response statuses of a HAR file, read as a stream: a long run's HAR (every request and response
 * body) outgrows the largest string V8 can hold (512 MiB). Bodies are JSON strings inside the
 * HAR, so an unescaped `"response": {"status"` is always a real response. A file cut short (a
 * run stopped by its backstop) is counted up to where it ends.
 */
async function answers(file: string): Promise<{ list: number[]; whole: boolean }> {
  const list: number[] = [];
  let carry = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = carry + (chunk as string);
    const pattern = /"response":\s*\{\s*"status":\s*(\d{3})/g;
    let end = 0;
    for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
      list.push(Number(m[1]));
      end = pattern.lastIndex;
    }
    // A match may straddle the chunk boundary: keep the tail, never text already matched.
    carry = text.slice(Math.max(end, text.length - 64));
  }
  return { list, whole: carry.trimEnd().endsWith('}') };
}

const byStatus = new Map<number, number>();
for (const file of files) {
  const { list, whole } = await answers(file);
  if (!whole) console.log(`schemathesis: ${file} was cut short; counting the ${list.length} answers it holds`);
  for (const status of list) byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
}
const total = [...byStatus.values()].reduce((a, b) => a + b, 0);
const auth = (byStatus.get(401) ?? 0) + (byStatus.get(403) ?? 0);
const share = total === 0 ? 1 : auth / total;
const statuses = [...byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`).join(', ');
console.log(`schemathesis: ${total} requests (${statuses}); 401/403 share ${(share * 100).toFixed(2)} % (at most ${(maxShare * 100).toFixed(0)} %)`);
if (total === 0 || share > maxShare) {
  console.error(total === 0 ? 'schemathesis: no requests were made' : 'schemathesis: too many requests were refused as unauthenticated or forbidden; the run tested little');
  process.exit(1);
}
