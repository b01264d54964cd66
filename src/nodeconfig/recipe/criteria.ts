// Recipe criteria from flags, a criteria file/body, or a snapshot (recipes.md, "Reading a
// snapshot into criteria"). Unknown values are a VALIDATION_FAILED that lists what is allowed.
import { validationFailed, type FieldError } from '../../domain/errors.ts';
import { ACCELERATORS, INTENTS, OSES, SERVICES, type Criteria, type Snapshot } from '../types.ts';

export const CRITERIA_VALUES = { service: SERVICES, accelerator: ACCELERATORS, intent: INTENTS, os: OSES } as const;
type Field = keyof typeof CRITERIA_VALUES;
const FIELDS = Object.keys(CRITERIA_VALUES) as Field[];

/** Input as it arrives (flags, query string, JSON/YAML body): every field optional, defaulting to `any`. */
export function parseCriteria(input: unknown): Criteria {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw validationFailed('criteria must be an object');
  const raw = input as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const key of Object.keys(raw)) {
    if (!FIELDS.includes(key as Field) && key !== 'nodes') errors.push({ path: key, message: `unknown criterion; allowed: ${[...FIELDS, 'nodes'].join(', ')}` });
  }
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const v = raw[field];
    if (v === undefined || v === null || v === '') {
      out[field] = 'any';
      continue;
    }
    const allowed: readonly string[] = CRITERIA_VALUES[field];
    const s = typeof v === 'string' ? v.trim().toLowerCase() : undefined;
    if (s !== undefined && allowed.includes(s)) out[field] = s;
    else errors.push({ path: field, message: `unknown ${field} ${JSON.stringify(v)}; allowed: ${allowed.join(', ')}` });
  }
  const nodes = raw.nodes;
  if (nodes !== undefined && nodes !== null && nodes !== '') {
    const n = typeof nodes === 'number' ? nodes : typeof nodes === 'string' && /^\d+$/.test(nodes.trim()) ? Number(nodes) : NaN;
    if (Number.isInteger(n) && n >= 1 && n <= 100000) out.nodes = n;
    else errors.push({ path: 'nodes', message: 'nodes must be a whole number from 1 to 100000' });
  }
  if (errors.length) throw validationFailed('invalid criteria', errors);
  return out as unknown as Criteria;
}

/** One canonical text per criteria value: the cache key for computed recipes. */
export function criteriaKey(c: Criteria): string {
  return `${c.service}|${c.accelerator}|${c.intent}|${c.os}|${c.nodes ?? ''}`;
}

function value(snapshot: Snapshot, type: string, subtype: string, key: string): string | undefined {
  const v = snapshot.measurements.find((m) => m.type === type)?.subtypes.find((s) => s.subtype === subtype)?.data[key];
  return v === undefined ? undefined : String(v);
}

const PROVIDER_PREFIX: [string, Criteria['service']][] = [
  ['aws://', 'eks'],
  ['gce://', 'gke'],
  ['azure://', 'aks'],
  ['oci://', 'oke'],
];

export function serviceFromSnapshot(snapshot: Snapshot): Criteria['service'] {
  const version = value(snapshot, 'K8s', 'server', 'version') ?? '';
  if (version.includes('-eks-')) return 'eks';
  if (version.includes('-gke')) return 'gke';
  if (version.includes('-aks')) return 'aks';
  const providerID = value(snapshot, 'K8s', 'node', 'providerID') ?? '';
  return PROVIDER_PREFIX.find(([prefix]) => providerID.startsWith(prefix))?.[1] ?? 'any';
}

/**
 * The accelerator a GPU product name names, matched as a whole token: "NVIDIA H100 80GB HBM3"
 * is h100, "NVIDIA A100-SXM4-80GB" is a100, but "NVIDIA GH200" is not h100 and "L40S" is
 * not l40 (eidos matched letters in order, so "g…b200" counted as gb200).
 */
export function acceleratorFromProduct(product: string): Criteria['accelerator'] {
  const tokens = new Set(product.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean));
  return ACCELERATORS.find((a) => a !== 'any' && tokens.has(a)) ?? 'any';
}

export function acceleratorFromSnapshot(snapshot: Snapshot): Criteria['accelerator'] {
  const gpu = snapshot.measurements.find((m) => m.type === 'GPU');
  const found = new Set<Criteria['accelerator']>();
  for (const s of gpu?.subtypes ?? []) {
    if (s.subtype === 'summary' || typeof s.data.productName !== 'string') continue;
    const a = acceleratorFromProduct(s.data.productName);
    if (a !== 'any') found.add(a);
  }
  if (found.size > 1) throw validationFailed(`the snapshot has GPUs of different kinds (${[...found].sort().join(', ')}); pass --accelerator`);
  return [...found][0] ?? 'any';
}

const OS_IDS: Record<string, Criteria['os']> = { ubuntu: 'ubuntu', rhel: 'rhel', cos: 'cos', amzn: 'amazonlinux' };

export function osFromSnapshot(snapshot: Snapshot): Criteria['os'] {
  return OS_IDS[value(snapshot, 'OS', 'release', 'ID') ?? ''] ?? 'any';
}

/** Criteria read from a snapshot; explicit values (flags) win over what the snapshot says. */
export function criteriaFromSnapshot(snapshot: Snapshot, explicit: Record<string, unknown> = {}): Criteria {
  const defined = Object.fromEntries(Object.entries(explicit).filter(([, v]) => v !== undefined));
  return parseCriteria({
    service: 'service' in defined ? undefined : serviceFromSnapshot(snapshot),
    accelerator: 'accelerator' in defined ? undefined : acceleratorFromSnapshot(snapshot),
    os: 'os' in defined ? undefined : osFromSnapshot(snapshot),
    ...defined,
  });
}
