// Shared pieces of the AWS tests. moto runs SSM SendCommand for real (it records the command,
// document and parameters) but executes nothing on its fake instances, so its invocation
// output is empty. FakeK3s stands in for THAT ONE thing only: the stdout K3s would print on
// the node (node list, kubeconfig) and the node-side effects of install/join/label/drain.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../../src/aws/clients.ts';
import { createAwsClients } from '../../src/aws/clients.ts';
import type { InitResult } from '../../src/cli/aws/init.ts';
import { initAws } from '../../src/cli/aws/init.ts';
import { S3Backend } from '../../src/client/s3-backend.ts';
import type { Moto } from '../helpers/moto.ts';
import { AtomicPerKeyObjects, startMoto, useMotoEnv } from '../helpers/moto.ts';
import type { NodeAgent, NodeCommand, NodeCommandResult } from '../../src/providers/aws/node-agent.ts';
import { SsmNodeAgent } from '../../src/providers/aws/node-agent.ts';

interface FakeNode {
  name: string;
  version: string;
  ready: boolean;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
}

export const STABLE_VERSION = 'v1.31.4+k3s1';
export const KUBECONFIG_SECRET = 'LS0tFAKE-CLIENT-KEY-DATA-7f3c9a';

export class FakeK3s implements NodeAgent {
  readonly ssm: SsmNodeAgent;
  /** Per instance: the K3s node that instance runs, once installed. */
  readonly nodes = new Map<string, FakeNode>();
  readonly commands: NodeCommand[] = [];
  readonly drained: string[] = [];
  /** Node names in the order day 2 scripts touched them: "cordon x", "drain x", "upgrade x", "uncordon x", "snapshot …", "reset x". */
  readonly day2: string[] = [];
  failNext = new Map<string, string>();
  /** Per instance: the etcd snapshot settings configure-snapshots last wrote (its drop-in file). */
  readonly snapshotSettings = new Map<string, Record<string, string>>();
  /** Nodes that do not come back after a K3s upgrade (NotReady at their old version) while listed here. */
  readonly stuck = new Set<string>();
  /** Day 2 commands (cordon, drain, upgrade) running at once, now and at most. */
  private active = 0;
  maxConcurrentDay2 = 0;

  private readonly clients: AwsClients;

  constructor(clients: AwsClients) {
    this.clients = clients;
    this.ssm = new SsmNodeAgent((r) => clients.ssm(r), { pollMs: 20 });
  }

  async run(cmd: NodeCommand, signal?: AbortSignal): Promise<NodeCommandResult> {
    const day2 = ['cordon-node', 'drain-for-upgrade', 'upgrade-k3s'].includes(cmd.script);
    if (day2) this.maxConcurrentDay2 = Math.max(this.maxConcurrentDay2, ++this.active);
    try {
      return await this.runOne(cmd, signal);
    } finally {
      if (day2) this.active--;
    }
  }

  private async runOne(cmd: NodeCommand, signal?: AbortSignal): Promise<NodeCommandResult> {
    const real = await this.ssm.run(cmd, signal); // over the wire to moto
    this.commands.push(cmd);
    const forced = this.failNext.get(cmd.script);
    if (forced) {
      this.failNext.delete(cmd.script);
      return { status: 'Failed', stdout: '', stderr: forced };
    }
    const ok = (stdout = ''): NodeCommandResult => ({ ...real, status: 'Success', stdout });
    const v = cmd.vars;
    switch (cmd.script) {
      case 'install-server':
      case 'join-agent': {
        const name = v.NODE_NAME ?? '';
        const prev = this.nodes.get(cmd.instanceId);
        this.nodes.set(cmd.instanceId, {
          name,
          version: v.K3S_VERSION === 'stable' || v.K3S_VERSION === 'latest' ? STABLE_VERSION : (v.K3S_VERSION ?? ''),
          ready: true,
          labels: prev?.labels ?? {},
          taints: prev?.taints ?? [],
        });
        return ok();
      }
      case 'get-nodes': {
        if (!this.nodes.has(cmd.instanceId)) return { status: 'Failed', stdout: '', stderr: 'k3s: command not found' };
        const items = [...this.nodes.values()].map((n) => ({
          metadata: { name: n.name, labels: n.labels },
          spec: { taints: n.taints },
          status: { conditions: [{ type: 'Ready', status: n.ready ? 'True' : 'False' }], nodeInfo: { kubeletVersion: n.version } },
        }));
        return ok(JSON.stringify({ items }));
      }
      case 'label-node': {
        const node = [...this.nodes.values()].find((n) => n.name === v.NODE_NAME);
        if (!node) return { status: 'Failed', stdout: '', stderr: 'no such node' };
        for (const item of (v.LABELS ?? '').split(' ').filter(Boolean)) {
          const [k = '', val = ''] = item.split('=');
          node.labels[k] = val;
        }
        for (const item of (v.REMOVE_TAINTS ?? '').split(' ').filter(Boolean)) {
          const [k] = item.split(':');
          node.taints = node.taints.filter((t) => t.key !== k);
        }
        for (const item of (v.TAINTS ?? '').split(' ').filter(Boolean)) {
          const m = /^([^=:]+)(?:=([^:]*))?:(.+)$/.exec(item);
          if (m) node.taints.push({ key: m[1] ?? '', ...(m[2] ? { value: m[2] } : {}), effect: m[3] ?? '' });
        }
        return ok();
      }
      case 'drain-node': {
        this.drained.push(v.NODE_NAME ?? '');
        for (const [id, n] of this.nodes) if (n.name === v.NODE_NAME) this.nodes.delete(id);
        return ok();
      }
      case 'cordon-node':
      case 'drain-for-upgrade':
      case 'uncordon-node':
        this.day2.push(`${cmd.script.replace(/-.*$/, '')} ${v.NODE_NAME ?? ''}`);
        return ok();
      case 'upgrade-k3s': {
        const node = this.nodes.get(cmd.instanceId);
        if (node && this.stuck.has(node.name)) node.ready = false;
        else if (node) Object.assign(node, { version: v.K3S_VERSION ?? node.version, ready: true });
        this.day2.push(`upgrade ${node?.name ?? cmd.instanceId}`);
        return ok();
      }
      case 'etcd-snapshot': {
        // What K3s does on the node: the snapshot file, uploaded to the bucket and folder it was given.
        const node = this.nodes.get(cmd.instanceId)?.name ?? cmd.instanceId;
        const file = `${v.SNAPSHOT_NAME ?? ''}-${node}-1767225600`;
        if (v.S3_BUCKET) {
          const prefix = v.S3_PREFIX ? `${v.S3_PREFIX.replace(/\/$/, '')}/` : '';
          await this.clients.s3().send(new PutObjectCommand({ Bucket: v.S3_BUCKET, Key: `${prefix}${file}`, Body: 'etcd-snapshot' }));
        }
        this.day2.push(`etcd-snapshot ${node}`);
        return ok(JSON.stringify({ items: [{ spec: { snapshotName: file }, status: { size: '13' } }] }));
      }
      case 'configure-snapshots':
        this.snapshotSettings.set(cmd.instanceId, { ...v });
        this.day2.push(`configure-snapshots ${this.nodes.get(cmd.instanceId)?.name ?? cmd.instanceId}`);
        return ok();
      case 'stop-k3s':
      case 'restore-snapshot':
      case 'rejoin-server':
      case 'restart-k3s':
        this.day2.push(`${cmd.script} ${this.nodes.get(cmd.instanceId)?.name ?? cmd.instanceId}`);
        return ok();
      case 'read-kubeconfig':
        return ok(
          `apiVersion: v1\nclusters:\n- cluster:\n    server: https://${v.PRIVATE_IP}:6443\n  name: ${v.CLUSTER}\nusers:\n- name: ${v.CLUSTER}\n  user:\n    client-key-data: ${KUBECONFIG_SECRET}\n`,
        );
    }
  }

  nodeByName(name: string): FakeNode | undefined {
    return [...this.nodes.values()].find((n) => n.name === name);
  }
}

/** Commands moto recorded (document name + parameters), straight from the SSM API. */
export async function recordedCommands(clients: AwsClients, region: string): Promise<{ document: string; commands: string[]; comment: string }[]> {
  const out: { document: string; commands: string[]; comment: string }[] = [];
  let NextToken: string | undefined;
  do {
    const page = await clients.ssm(region).send(new ListCommandsCommand({ NextToken }));
    for (const c of page.Commands ?? []) out.push({ document: c.DocumentName ?? '', commands: c.Parameters?.commands ?? [], comment: c.Comment ?? '' });
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

export interface ServerlessAccount {
  moto: Moto;
  clients: AwsClients;
  init: InitResult;
  backend: S3Backend;
  k3s: FakeK3s;
}

/**
 * moto running, `goman init` done in ap-south-1 (without a Lambda: its code never runs inside
 * moto, which would need Docker; tests run the same runner in-process), an S3 backend on the
 * state bucket, and FakeK3s for node output. Null when moto is not installed.
 */
export async function serverlessAccount(): Promise<ServerlessAccount | null> {
  const moto = await startMoto();
  if (!moto) return null;
  useMotoEnv(moto);
  const clients = createAwsClients('ap-south-1');
  const emptyZip = async (): Promise<Buffer> => Buffer.from('UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', 'base64');
  const init = await initAws({ clients, configFile: false, lambdaZip: emptyZip });
  const backend = new S3Backend({ bucket: init.names.bucket, region: 'ap-south-1', objects: new AtomicPerKeyObjects(clients.s3(), init.names.bucket) });
  return { moto, clients, init, backend, k3s: new FakeK3s(clients) };
}
