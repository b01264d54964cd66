// Reads schemathesis HAR files and prints how many requests were made and how they were
// answered; exits 1 when more than the allowed share were 401/403 (the run's credential stopped
// working, or auth refused what it should not), or when nothing was sent at all.
//   node scripts/fuzz-report.ts [--max-auth-share 0.05] FILE.har...
import { readFileSync } from 'node:fs';

interface Har {
  log: { entries: { response: { status: number } }[] };
}

const args = process.argv.slice(2);
let maxShare = 0.05;
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--max-auth-share') maxShare = Number(args[++i]);
  else files.push(args[i]!);
}

/** Response statuses of a HAR file; a file cut short (a run stopped by its backstop) is read up to where it ends. */
function answers(text: string): { list: number[]; whole: boolean } {
  try {
    return { list: (JSON.parse(text) as Har).log.entries.map((e) => e.response.status), whole: true };
  } catch {
    // Bodies are JSON strings inside the HAR, so an unescaped `"response": {"status"` is always the real one.
    return { list: [...text.matchAll(/"response":\s*\{\s*"status":\s*(\d{3})/g)].map((m) => Number(m[1])), whole: false };
  }
}

const byStatus = new Map<number, number>();
for (const file of files) {
  const { list, whole } = answers(readFileSync(file, 'utf8'));
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
