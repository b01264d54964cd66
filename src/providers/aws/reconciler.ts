// The aws provider's reconciler (DESIGN §7): make EC2 + K3s match a cluster's spec, one
// level-triggered step at a time. The same code runs under the controller host (service
// topology: reports go to the API) and the serverless runner (reports go to status/{name}.json).
import type { AwsClients } from '../../aws/clients.ts';
import { CONTROLLER_NAME, kubeconfigParameter, tokenParameter } from '../../aws/names.ts';
import type { Cluster, ClusterNode, ControllerReport, NodePool, ReportedCondition } from '../../domain/index.ts';
import { condition, serverCount, SERVER_POOL } from '../../domain/index.ts';
import { TerminalError, type ReconcileContext, type ReconcileResult, type Reconciler } from '../../reconcile/types.ts';
import type { InstanceInfo, Slot } from './ec2.ts';
import { nodeName, slotKey } from '../../domain/slots.ts';
import { classify, ClusterCloud, isLive, latestImage, ProviderError } from './ec2.ts';
import type { K3sNode } from './k3s.ts';
import { labelTaintChanges, parseNodes, versionMatches } from './k3s.ts';
import type { NodeAgent, NodeCommand } from './node-agent.ts';
import { SsmNodeAgent } from './node-agent.ts';

export interface AwsReconcilerOptions {
  clients: AwsClients;
  agent?: NodeAgent;
  /** How soon to look again while waiting on the cloud, when stable, after an error. */
  requeue?: Partial<{ waitingMs: number; stableMs: number }>;
  /** Test hook: runs right after RunInstances returns, before anything is recorded. */
  afterLaunch?: (instanceId: string) => void | Promise<void>;
}

interface DesiredSlot extends Slot {
  instanceType: string;
  nodeName: string;
  poolSpec?: NodePool;
}

interface AwsMetadata {
  attempts: Record<string, number>;
}

export class AwsReconciler implements Reconciler {
  readonly name = CONTROLLER_NAME;
  readonly registration = { providers: ['aws'], required: true };
  private readonly clients: AwsClients;
  private readonly agent: NodeAgent;
  private readonly requeue: { waitingMs: number; stableMs: number };
  private readonly afterLaunch: AwsReconcilerOptions['afterLaunch'];

  constructor(opts: AwsReconcilerOptions) {
    this.clients = opts.clients;
    this.agent = opts.agent ?? new SsmNodeAgent((r) => opts.clients.ssm(r));
    this.requeue = { waitingMs: 10_000, stableMs: 300_000, ...opts.requeue };
    this.afterLaunch = opts.afterLaunch;
  }

  async reconcile(cluster: Cluster, ctx: ReconcileContext): Promise<ReconcileResult> {
    if (cluster.spec.provider !== 'aws') return {};
    const cloud = new ClusterCloud(this.clients.ec2(cluster.spec.region), this.clients.ssm(cluster.spec.region), cluster);
    const meta = previousMetadata(cluster);
    try {
      if (cluster.deletionTimestamp) return await this.teardown(cloud, ctx);
      return await this.converge(cloud, ctx, meta);
    } catch (e) {
      ctx.signal.throwIfAborted();
      // When to look again is the host's call (backoff, or never for a TerminalError), not ours.
      const err = classify(e);
      if (!err.retryable) throw new TerminalError(err.code, err.message, { metadata: { aws: meta } });
      await ctx.report({
        observedGeneration: cluster.generation,
        conditions: [condition('Ready', 'False', err.code, err.message)],
        metadata: { aws: meta },
        lastError: { code: err.code, message: err.message, retryable: true },
      });
      throw err;
    }
  }

  private async teardown(cloud: ClusterCloud, ctx: ReconcileContext): Promise<ReconcileResult> {
    const live = (await cloud.instances()).filter(isLive);
    await cloud.terminate(live.filter((i) => i.state !== 'shutting-down').map((i) => i.id));
    if (live.length > 0 || !(await cloud.deleteSecurityGroup())) {
      await ctx.report({
        observedGeneration: cloud.cluster.generation,
        conditions: [condition('Ready', 'False', 'Deleting', `waiting for ${live.length} instance(s) to terminate`)],
      });
      return { requeueAfterMs: this.requeue.waitingMs };
    }
    await cloud.deleteParameters();
    await ctx.releaseFinalizer();
    return {};
  }

  private async converge(cloud: ClusterCloud, ctx: ReconcileContext, meta: AwsMetadata): Promise<ReconcileResult> {
    const { cluster } = cloud;
    const spec = cluster.spec;
    const gen = cluster.generation;
    const groupId = await cloud.ensureSecurityGroup();
    await cloud.ensureToken();
    const slots = desiredSlots(cluster);
    const all = await cloud.instances();
    const live = all.filter(isLive);
    const bySlot = new Map<string, InstanceInfo>();
    const extras: InstanceInfo[] = [];
    for (const i of live) {
      if (slots.has(i.key) && !bySlot.has(i.key)) bySlot.set(i.key, i);
      else extras.push(i);
    }
    const report = (conditions: ReportedCondition[], nodes: ClusterNode[], endpoint?: string): Promise<void> => {
      const r: ControllerReport = { observedGeneration: gen, conditions, metadata: { aws: meta, nodes, ...(endpoint ? { endpoint } : {}) }, lastError: null };
      return ctx.report(r);
    };
    const nodesOf = (k3s?: Map<string, K3sNode>): ClusterNode[] =>
      [...slots.values()].map((s) => {
        const i = bySlot.get(s.key);
        const k = k3s?.get(s.nodeName);
        return {
          name: s.nodeName,
          role: s.role,
          ...(s.role === 'agent' ? { pool: s.pool } : {}),
          ...(i ? { instanceId: i.id, ...(i.privateIp ? { privateIp: i.privateIp } : {}) } : {}),
          state: i?.state ?? 'absent',
          ready: Boolean(k?.ready),
        };
      });

    if (spec.desiredState === 'stopped') {
      await cloud.terminate(extras.filter((i) => i.state !== 'shutting-down').map((i) => i.id));
      await cloud.stop(live.filter((i) => i.state === 'running' || i.state === 'pending').map((i) => i.id));
      const stillUp = [...bySlot.values()].filter((i) => i.state !== 'stopped').length;
      if (stillUp === 0) {
        await report([condition('Ready', 'True', 'Stopped', 'all instances are stopped'), condition('Available', 'False', 'Stopped', 'stopped')], nodesOf());
        return { requeueAfterMs: this.requeue.stableMs };
      }
      await report([condition('Ready', 'False', 'Stopping', `${stillUp} instance(s) still stopping`)], nodesOf());
      return { requeueAfterMs: this.requeue.waitingMs };
    }

    // Running: start what was stopped, launch what is missing.
    await cloud.start([...bySlot.values()].filter((i) => i.state === 'stopped').map((i) => i.id));
    const missing = [...slots.values()].filter((s) => !bySlot.has(s.key));
    if (missing.length) {
      const imageId = await latestImage(cloud.ssm);
      const subnets = spec.network?.subnetIds ?? [];
      for (const slot of missing) {
        // A slot whose instance died gets a new attempt (a reused ClientToken would return the dead one).
        const dead = all.filter((i) => i.key === slot.key && !isLive(i));
        const attempt = Math.max(meta.attempts[slot.key] ?? 0, ...dead.map((i) => i.attempt + 1));
        meta.attempts[slot.key] = attempt;
        const id = await cloud.launch(slot, {
          imageId,
          instanceType: slot.instanceType,
          groupId,
          subnetId: subnets.length ? subnets[slot.index % subnets.length] : undefined,
          attempt,
        });
        await this.afterLaunch?.(id);
      }
      await report([condition('Ready', 'False', 'Launching', `launched ${missing.length} instance(s)`)], nodesOf());
      return { requeueAfterMs: this.requeue.waitingMs };
    }
    const notRunning = [...bySlot.values()].filter((i) => i.state !== 'running');
    if (notRunning.length) {
      await report([condition('Ready', 'False', 'WaitingForInstances', `${notRunning.length} instance(s) not running yet`)], nodesOf());
      return { requeueAfterMs: this.requeue.waitingMs };
    }

    // K3s: the first server, then the others, then the agents; Ready only from K3s itself.
    const first = bySlot.get(slotKey({ role: 'server', index: 0 }));
    if (!first?.privateIp) throw new ProviderError('NoServer', 'the first server has no private address yet', true);
    const serverUrl = `https://${first.privateIp}:6443`;
    const base = { CLUSTER: cluster.name, K3S_VERSION: spec.k3sVersion, REGION: spec.region, TOKEN_PARAM: tokenParameter(cluster.name) };
    const run = (instanceId: string, script: NodeCommand['script'], vars: Record<string, string>) =>
      this.runChecked({ region: spec.region, instanceId, script, vars }, ctx.signal);
    const firstSlot = slots.get(first.key);
    let k3s = await this.readNodes(spec.region, first.id, ctx.signal);
    const firstNode = firstSlot ? k3s?.get(firstSlot.nodeName) : undefined;
    if (!firstNode || !versionMatches(spec.k3sVersion, firstNode.version)) {
      await run(first.id, 'install-server', { ...base, NODE_NAME: firstSlot?.nodeName ?? '', SERVER_URL: '', CLUSTER_INIT: String(spec.mode === 'ha') });
      k3s = await this.readNodes(spec.region, first.id, ctx.signal);
    }
    if (!k3s) {
      await report([condition('Ready', 'False', 'WaitingForK3s', 'K3s on the first server is not answering yet')], nodesOf());
      return { requeueAfterMs: this.requeue.waitingMs };
    }

    // Drain before terminating anything the spec no longer wants.
    for (const extra of extras) {
      const name = nodeName(cluster.name, extra);
      if (extra.state === 'running' && k3s.has(name)) await run(first.id, 'drain-node', { NODE_NAME: name });
      await cloud.terminate([extra.id]);
    }

    const joins: Promise<unknown>[] = [];
    for (const slot of slots.values()) {
      const inst = bySlot.get(slot.key);
      if (!inst || inst.id === first.id) continue;
      const node = k3s.get(slot.nodeName);
      if (node && versionMatches(spec.k3sVersion, node.version)) continue;
      joins.push(
        slot.role === 'server'
          ? run(inst.id, 'install-server', { ...base, NODE_NAME: slot.nodeName, SERVER_URL: serverUrl, CLUSTER_INIT: 'false' })
          : run(inst.id, 'join-agent', { ...base, NODE_NAME: slot.nodeName, POOL: slot.pool, SERVER_URL: serverUrl }),
      );
    }
    await Promise.all(joins);
    if (joins.length) k3s = (await this.readNodes(spec.region, first.id, ctx.signal)) ?? k3s;

    for (const slot of slots.values()) {
      const node = k3s.get(slot.nodeName);
      if (!node || !slot.poolSpec) continue;
      const change = labelTaintChanges(node, slot.poolSpec.labels ?? {}, slot.poolSpec.taints ?? []);
      if (change) {
        await run(first.id, 'label-node', { NODE_NAME: slot.nodeName, ...change });
        k3s = (await this.readNodes(spec.region, first.id, ctx.signal)) ?? k3s;
      }
    }

    if (!(await cloud.hasParameter(kubeconfigParameter(cluster.name)))) {
      const kubeconfig = await run(first.id, 'read-kubeconfig', { PRIVATE_IP: first.privateIp, CLUSTER: cluster.name });
      await cloud.putKubeconfig(kubeconfig);
    }

    const pending = [...slots.values()].filter((s) => {
      const node = k3s.get(s.nodeName);
      return !node?.ready || !versionMatches(spec.k3sVersion, node.version);
    });
    const nodes = nodesOf(k3s);
    if (pending.length) {
      await report([condition('Ready', 'False', 'NodesNotReady', `not ready in K3s: ${pending.map((s) => s.nodeName).join(', ')}`)], nodes, serverUrl);
      return { requeueAfterMs: this.requeue.waitingMs };
    }
    await report(
      [
        condition('Ready', 'True', 'K3sReady', `${slots.size} node(s) Ready in K3s`),
        condition('Available', 'True', 'K3sReady', `API at ${serverUrl}`),
      ],
      nodes,
      serverUrl,
    );
    return { requeueAfterMs: this.requeue.stableMs };
  }

  private async readNodes(region: string, instanceId: string, signal: AbortSignal): Promise<Map<string, K3sNode> | null> {
    const out = await this.agent.run({ region, instanceId, script: 'get-nodes', vars: {} }, signal);
    return out.status === 'Success' ? parseNodes(out.stdout) : null;
  }

  /** Stdout of a successful command; anything else is a retryable failure naming the script. */
  private async runChecked(cmd: NodeCommand, signal: AbortSignal): Promise<string> {
    const out = await this.agent.run(cmd, signal);
    if (out.status !== 'Success') {
      // stderr may echo script lines, never secrets (the token is read on the node), but keep it short.
      throw new ProviderError(`Script${out.status}`, `${cmd.script} on ${cmd.instanceId}: ${out.status}${out.stderr ? `: ${out.stderr.slice(-300)}` : ''}`, true);
    }
    return out.stdout;
  }
}

function desiredSlots(cluster: Cluster): Map<string, DesiredSlot> {
  const slots = new Map<string, DesiredSlot>();
  for (let index = 0; index < serverCount(cluster.spec); index++) {
    const s: Slot = { key: slotKey({ role: 'server', index }), role: 'server', pool: SERVER_POOL, index };
    slots.set(s.key, { ...s, instanceType: cluster.spec.instanceType, nodeName: nodeName(cluster.name, s) });
  }
  for (const pool of cluster.spec.nodePools) {
    // Admission (domain/admission.ts) refuses a pool named "server", whose node names would clash.
    for (let index = 0; index < pool.count; index++) {
      const s: Slot = { key: slotKey({ role: 'agent', pool: pool.name, index }), role: 'agent', pool: pool.name, index };
      slots.set(s.key, { ...s, instanceType: pool.instanceType ?? cluster.spec.instanceType, nodeName: nodeName(cluster.name, s), poolSpec: pool });
    }
  }
  return slots;
}

function previousMetadata(cluster: Cluster): AwsMetadata {
  const mine = cluster.status.controllers.find((c) => c.name === CONTROLLER_NAME);
  const raw = mine?.metadata?.aws;
  const attempts: Record<string, number> = {};
  if (raw && typeof raw === 'object' && 'attempts' in raw && raw.attempts && typeof raw.attempts === 'object') {
    for (const [k, v] of Object.entries(raw.attempts)) if (typeof v === 'number') attempts[k] = v;
  }
  return { attempts };
}
