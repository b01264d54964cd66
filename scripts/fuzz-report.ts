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

const byStatus = new Map<number, number>();
for (const file of files) {
  const har = JSON.parse(readFileSync(file, 'utf8')) as Har;
  for (const e of har.log.entries) byStatus.set(e.response.status, (byStatus.get(e.response.status) ?? 0) + 1);
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
