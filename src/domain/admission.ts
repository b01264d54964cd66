// Admission: what a provider could never build is refused when the spec is accepted (422 naming
// the field), not discovered by a controller at run time. The schema (spec.ts) says what a spec
// looks like; these rules say what the cloud and K3s will take.
import type { FieldError } from './errors.ts';
import { UnprocessableError } from './errors.ts';
import { nodeName } from './slots.ts';
import type { ClusterSpec } from './spec.ts';

/** K3s labels every node `kubernetes.io/hostname=<node name>`, and label values stop at 63. */
const MAX_NODE_NAME = 63;

export function admissionProblems(name: string, spec: ClusterSpec): FieldError[] {
  const problems: FieldError[] = [];
  spec.nodePools.forEach((pool, i) => {
    // The longest node name this pool makes (its last index has the most digits).
    const longest = nodeName(name, { role: 'agent', pool: pool.name, index: Math.max(0, pool.count - 1) });
    if (spec.provider === 'aws' && longest.length > MAX_NODE_NAME) {
      problems.push({
        path: `spec.nodePools.${i}.name`,
        message: `node names such as "${longest}" would exceed ${MAX_NODE_NAME} characters; shorten the pool or cluster name`,
      });
    }
  });
  const net = spec.network;
  if (spec.provider === 'aws' && net?.subnetIds?.length && !net.vpcId) {
    problems.push({ path: 'spec.network.vpcId', message: 'is required with subnetIds (the security group must live in the subnets\' VPC)' });
  }
  const pod = net?.podCIDR === undefined ? undefined : cidrRange(net.podCIDR);
  const service = net?.serviceCIDR === undefined ? undefined : cidrRange(net.serviceCIDR);
  if (pod === null) problems.push({ path: 'spec.network.podCIDR', message: 'must be an IPv4 CIDR with octets up to 255 and a prefix up to /32' });
  if (service === null) problems.push({ path: 'spec.network.serviceCIDR', message: 'must be an IPv4 CIDR with octets up to 255 and a prefix up to /32' });
  if (pod && service && pod.first <= service.last && service.first <= pod.last) {
    problems.push({ path: 'spec.network.serviceCIDR', message: `overlaps podCIDR ${net?.podCIDR ?? ''}; K3s needs them apart` });
  }
  return problems;
}

/** Throws UnprocessableError (422) naming every field a provider could never accept. */
export function assertAdmissible(name: string, spec: ClusterSpec): void {
  const problems = admissionProblems(name, spec);
  if (problems.length > 0) throw new UnprocessableError(problems.map((p) => `${p.path} ${p.message}`).join('; '), problems);
}

/** The addresses a CIDR covers, or null when it is not a real IPv4 CIDR. */
function cidrRange(cidr: string): { first: number; last: number } | null {
  const [addr = '', bitsText = ''] = cidr.split('/');
  const octets = addr.split('.').map(Number);
  const bits = Number(bitsText);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o > 255) || !Number.isInteger(bits) || bits > 32) return null;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  const first = Math.floor(base / size) * size;
  return { first, last: first + size - 1 };
}
