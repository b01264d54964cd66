// The aws provider's reconciler (DESIGN §7): make EC2 + K3s match a cluster's spec, one
// level-triggered step at a time. The same code runs under the controller host (service
// topology: reports go to the API) and the serverless runner (reports go to status/{name}.json).
import type { AwsClients } from '../../aws/clients.ts';
import { CONTROLLER_NAME, kubeconfigParameter, SSM_OUTPUT_PREFIX, tokenParameter } from '../../aws/names.ts';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { awsErrorName } from '../../aws/clients.ts';
import { z } from 'zod';
import type { Action, Cluster, ClusterNode, ControllerReport, ReportedCondition } from '../../domain/index.ts';
import { condition, durationMs, nameList, snapshotsOf, upgradeSettings, type RestoreStatus, type RolloutStatus } from '../../domain/index.ts';
import { TerminalError, type ReconcileContext, type ReconcileResult, type Reconciler } from '../../reconcile/types.ts';
import type { InstanceInfo } from './ec2.ts';
import { nodeName, slotKey } from '../../domain/slots.ts';
import { classify, ClusterCloud, isLive, latestImage, ProviderError } from './ec2.ts';
import type { K3sNode } from './k3s.ts';
import { labelTaintChanges, parseNodes, versionMatches } from './k3s.ts';
import type { NodeAgent, NodeCommand, SsmOutput } from './node-agent.ts';
import type { AwsDesiredSlot, AwsObserved } from './plan.ts';
import { awsSlots, GROUP_RESOURCES, KUBECONFIG_RESOURCE, placeInstances, planAws, rolloutBatch } from './plan.ts';
import { SsmNodeAgent } from './node-agent.ts';
import { liftStall, rolloutMemorySchema, rolloutReport, settleInFlight } from './rollout.ts';
import type { HomeBucket } from './snapshots.ts';
import { s3Vars, settingsKey, snapshotRecord, snapshotSettings, snapshotSource, snapshotTarget } from './snapshots.ts';

export interface AwsReconcilerOptions {
  clients: AwsClients;
  agent?: NodeAgent;
  /** How soon to look again while waiting on the cloud, when stable, after an error. */
  requeue?: Partial<{ waitingMs: number; stableMs: number }>;
  /** Least time between two servers restarting to take changed snapshot settings (default 60 s). */
  restartGapMs?: number;
  /**
   * goman's bucket: node command output is also written there (under ssm-output/), read back past
   * SSM's 24 000 characters, and etcd snapshots go there (under snapshots/) when spec.backup names
   * no bucket. Its region is the clients' region.
   */
  outputBucket?: string | undefined;
  /** Test hook: runs right after RunInstances returns, before anything is recorded. */
  afterLaunch?: (instanceId: string) => void | Promise<void>;
}

/**
 * What the controller remembers between passes, in its status report's metadata (so a restarted
 * controller or another Lambda invocation carries on). Read back leniently: a part that does not
 * parse is forgotten, not fatal.
 */
const awsMetadataSchema = rolloutMemorySchema
  .extend({
    attempts: z.record(z.string(), z.number()).catch({}),
    /** The last spec.requests carried out (DESIGN §14), so each runs once. */
    handled: z.object({ backup: z.string().optional(), restore: z.string().optional(), resume: z.string().optional() }).optional().catch(undefined),
    /** Per server: the etcd snapshot settings it was last configured with (settingsKey). */
    snapshotSettings: z.record(z.string(), z.string()).optional().catch(undefined),
    /** When a server last restarted to take new snapshot settings (ISO). */
    snapshotRestartAt: z.string().optional().catch(undefined),
  })
  .catch({ attempts: {} });
type AwsMetadata = z.output<typeof awsMetadataSchema>;

export class AwsReconciler implements Reconciler {
  readonly name = CONTROLLER_NAME;
  readonly registration = { providers: ['aws'], required: true };
  private readonly clients: AwsClients;
  private readonly agent: NodeAgent;
  private readonly requeue: { waitingMs: number; stableMs: number };
  private readonly afterLaunch: AwsReconcilerOptions['afterLaunch'];
  private readonly home: HomeBucket;
  private readonly restartGapMs: number;

  constructor(opts: AwsReconcilerOptions) {
    this.clients = opts.clients;
    const output = opts.outputBucket === undefined ? undefined : s3Output(opts.clients, opts.outputBucket);
    this.agent = opts.agent ?? new SsmNodeAgent((r) => opts.clients.ssm(r), output ? { output } : {});
    this.requeue = { waitingMs: 10_000, stableMs: 300_000, ...opts.requeue };
    this.afterLaunch = opts.afterLaunch;
    this.restartGapMs = opts.restartGapMs ?? 60_000;
    this.home = opts.outputBucket === undefined ? undefined : { bucket: opts.outputBucket, region: opts.clients.region };
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
    const { cluster } = cloud;
    const instances = await cloud.instances();
    const live = instances.filter(isLive);
    const plan = planAws({ name: cluster.name, spec: cluster.spec, deleting: true }, { instances, hasSecurityGroup: true, hasToken: true, k3s: null, hasKubeconfig: true });
    const targets = instanceFinder(cluster.name, live);
    await cloud.terminate(plan.filter((a) => a.kind === 'terminate').map((a) => targets(a)?.id).filter((id): id is string => id !== undefined));
    // delete-resources, the plan's last step, runs once no instance holds the security group.
    if (live.length > 0 || !(await cloud.deleteSecurityGroup())) {
      await ctx.report({
        observedGeneration: cluster.generation,
        conditions: [condition('Ready', 'False', 'Deleting', `waiting for ${live.length} instance(s) to terminate`)],
      });
      return { requeueAfterMs: this.requeue.waitingMs };
    }
    await cloud.deleteParameters();
    await ctx.releaseFinalizer();
    return {};
  }

  /** What one pass sees of the cluster: instances, resources, and K3s once the first server runs. */
  private async observe(cloud: ClusterCloud, slots: ReadonlyMap<string, AwsDesiredSlot>, signal: AbortSignal): Promise<AwsObserved & { groupId: string | undefined }> {
    const name = cloud.cluster.name;
    const [instances, groupId, hasToken, hasKubeconfig] = await Promise.all([
      cloud.instances(),
      cloud.findSecurityGroup(),
      cloud.hasParameter(tokenParameter(name)),
      cloud.hasParameter(kubeconfigParameter(name)),
    ]);
    const first = placeInstances(slots, instances).bySlot.get(slotKey({ role: 'server', index: 0 }));
    const k3s = first?.state === 'running' ? await this.readNodes(cloud.region, first.id, signal) : null;
    return { instances, groupId, hasSecurityGroup: groupId !== undefined, hasToken, k3s, hasKubeconfig };
  }

  /** Runs the head of the plan — the actions that can run now, in order — and reports. */
  private async converge(cloud: ClusterCloud, ctx: ReconcileContext, meta: AwsMetadata): Promise<ReconcileResult> {
    const { cluster } = cloud;
    const spec = cluster.spec;
    const gen = cluster.generation;
    const slots = awsSlots(cluster.name, spec);
    const seen = await this.observe(cloud, slots, ctx.signal);
    const plan = planAws({ name: cluster.name, spec, deleting: false }, seen);
    const all = seen.instances;
    const { bySlot, extras } = placeInstances(slots, all);
    const target = instanceFinder(cluster.name, [...bySlot.values(), ...extras]);
    const extraOf = instanceFinder(cluster.name, extras);
    const slotOfNode = (node: string | undefined): AwsDesiredSlot | undefined => [...slots.values()].find((s) => s.nodeName === node);
    const slotOf = (a: Action): AwsDesiredSlot | undefined => slotOfNode(a.node);
    const ids = (kind: Action['kind'], find = target): string[] =>
      plan.filter((a) => a.kind === kind).map((a) => find(a)?.id).filter((id): id is string => id !== undefined);
    let snapshots = snapshotsOf(cluster);
    let restore: RestoreStatus | undefined = cluster.status.restore;
    let rollout: RolloutStatus | undefined = cluster.status.rollout;
    const report = (conditions: ReportedCondition[], nodes: ClusterNode[], endpoint?: string): Promise<void> => {
      const metadata = { aws: meta, nodes, snapshots, ...(restore ? { restore } : {}), ...(rollout ? { rollout } : {}), ...(endpoint ? { endpoint } : {}) };
      const r: ControllerReport = { observedGeneration: gen, conditions, metadata, lastError: null };
      return ctx.report(r);
    };
    const nodesOf = (k3s?: ReadonlyMap<string, K3sNode> | null): ClusterNode[] =>
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
          ...(k?.version ? { k3sVersion: k.version } : {}),
          ...(meta.pause?.node === s.nodeName ? { upgrade: 'failed' as const, cordoned: true } : meta.upgrading?.[s.nodeName] ? { upgrade: 'upgrading' as const, cordoned: true } : {}),
        };
      });

    let groupId = seen.groupId;
    if (plan.some((a) => a.kind === 'create-resources' && a.node === GROUP_RESOURCES)) {
      groupId = await cloud.ensureSecurityGroup();
      await cloud.ensureToken();
    }

    if (spec.desiredState === 'stopped') {
      await cloud.terminate(ids('terminate', extraOf));
      await cloud.stop(ids('stop'));
      const stillUp = [...bySlot.values()].filter((i) => i.state !== 'stopped').length;
      if (stillUp === 0) {
        await report([condition('Ready', 'True', 'Stopped', 'all instances are stopped'), condition('Available', 'False', 'Stopped', 'stopped')], nodesOf());
        return { requeueAfterMs: this.requeue.stableMs };
      }
      await report([condition('Ready', 'False', 'Stopping', `${stillUp} instance(s) still stopping`)], nodesOf());
      return { requeueAfterMs: this.requeue.waitingMs };
    }

    // Running: start what was stopped, launch what is missing.
    await cloud.start(ids('start'));
    const missing = plan.filter((a) => a.kind === 'launch').map(slotOf).filter((x): x is AwsDesiredSlot => x !== undefined);
    if (missing.length) {
      if (!groupId) throw new ProviderError('NoSecurityGroup', 'the security group is not there yet', true);
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
    // The rest of the plan (K3s) waits until every instance runs.
    const notRunning = [...bySlot.values()].filter((i) => i.state !== 'running');
    if (notRunning.length) {
      await report([condition('Ready', 'False', 'WaitingForInstances', `${notRunning.length} instance(s) not running yet`)], nodesOf());
      return { requeueAfterMs: this.requeue.waitingMs };
    }

    // K3s: the first server, then the others, then the agents; Ready only from K3s itself.
    const first = bySlot.get(slotKey({ role: 'server', index: 0 }));
    if (!first?.privateIp) throw new ProviderError('NoServer', 'the first server has no private address yet', true);
    const firstIp = first.privateIp;
    const serverUrl = `https://${firstIp}:6443`;
    const base = { CLUSTER: cluster.name, K3S_VERSION: spec.k3sVersion, REGION: spec.region, TOKEN_PARAM: tokenParameter(cluster.name) };
    const run = (instanceId: string, script: NodeCommand['script'], vars: Record<string, string>) =>
      this.runChecked({ region: spec.region, instanceId, script, vars }, ctx.signal);
    const firstSlot = slots.get(first.key);
    // etcd snapshot settings: a config drop-in on each server, written before K3s is installed and
    // again when spec.backup (or where snapshots go) changes.
    const backupTo = snapshotTarget(cluster, this.home);
    const settings = snapshotSettings(spec, backupTo);
    const configured = (meta.snapshotSettings ??= {});
    const wantedSettings = settingsKey(settings);
    const configureSnapshots = async (instanceId: string, node: string): Promise<void> => {
      await run(instanceId, 'configure-snapshots', settings);
      configured[node] = wantedSettings;
    };
    let k3s = seen.k3s;
    const reread = async (): Promise<void> => {
      k3s = (await this.readNodes(spec.region, first.id, ctx.signal)) ?? k3s;
    };
    const needsInstall = (slot: AwsDesiredSlot): boolean => {
      const node = k3s?.get(slot.nodeName);
      return !node || !versionMatches(spec.k3sVersion, node.version);
    };
    let joins: Promise<unknown>[] = [];
    const flushJoins = async (): Promise<void> => {
      if (!joins.length) return;
      await Promise.all(joins);
      joins = [];
      await reread();
    };
    for (const action of plan) {
      const slot = slotOf(action);
      // The rollout's steps run after the plan's other work, once K3s answers (below).
      if (ROLLOUT_STEPS.has(action.kind) && plan.some((a) => a.kind === 'uncordon' && a.node === action.node)) continue;
      if (action.kind === 'install-k3s' || action.kind === 'upgrade-k3s') {
        const inst = slot ? bySlot.get(slot.key) : undefined;
        if (!slot || !inst || !needsInstall(slot)) continue;
        if (inst.id === first.id) {
          // Embedded etcd in every mode (dev: a single member), so etcd snapshots work everywhere.
          await configureSnapshots(first.id, firstSlot?.nodeName ?? '');
          await run(first.id, 'install-server', { ...base, NODE_NAME: firstSlot?.nodeName ?? '', SERVER_URL: '', CLUSTER_INIT: 'true' });
          k3s = await this.readNodes(spec.region, first.id, ctx.signal);
          if (!k3s) break;
          continue;
        }
        joins.push(
          slot.role === 'server'
            ? configureSnapshots(inst.id, slot.nodeName).then(() => run(inst.id, 'install-server', { ...base, NODE_NAME: slot.nodeName, SERVER_URL: serverUrl, CLUSTER_INIT: 'false' }))
            : run(inst.id, 'join-agent', { ...base, NODE_NAME: slot.nodeName, POOL: slot.pool, SERVER_URL: serverUrl }),
        );
        continue;
      }
      await flushJoins();
      if (!k3s) break;
      if (action.kind === 'drain') {
        // Drain before terminating anything the spec no longer wants.
        const running = extras.some((i) => i.state === 'running' && nodeName(cluster.name, i) === action.node);
        if (running && k3s.has(action.node ?? '')) await run(first.id, 'drain-node', { NODE_NAME: action.node ?? '' });
      } else if (action.kind === 'terminate') {
        const extra = extraOf(action);
        if (extra) await cloud.terminate([extra.id]);
      } else if (action.kind === 'label-node' && slot?.poolSpec) {
        const node = k3s.get(slot.nodeName);
        const change = node ? labelTaintChanges(node, slot.poolSpec.labels ?? {}, slot.poolSpec.taints ?? []) : null;
        if (change) {
          await run(first.id, 'label-node', { NODE_NAME: slot.nodeName, ...change });
          await reread();
        }
      } else if (action.kind === 'create-resources' && action.node === KUBECONFIG_RESOURCE) {
        const kubeconfig = await run(first.id, 'read-kubeconfig', { PRIVATE_IP: firstIp, CLUSTER: cluster.name });
        await cloud.putKubeconfig(kubeconfig);
      }
    }
    await flushJoins();
    const nodesK3s: ReadonlyMap<string, K3sNode> | null = k3s;
    if (!nodesK3s) {
      await report([condition('Ready', 'False', 'WaitingForK3s', 'K3s on the first server is not answering yet')], nodesOf());
      return { requeueAfterMs: this.requeue.waitingMs };
    }

    // The rollout: settle the nodes on their way back, then start the next batch, each node's
    // cordon → drain → upgrade in parallel with the others of its batch.
    const requests = spec.requests ?? {};
    const handled = (meta.handled ??= {});
    const now = Date.now();
    if (requests.resume !== undefined && requests.resume !== handled.resume) {
      handled.resume = requests.resume;
      liftStall(meta, now);
    }
    const upgrading = (meta.upgrading ??= {});
    const wantedNodes = new Set([...slots.values()].map((x) => x.nodeName));
    const finished: string[] = [];
    // Nodes Ready again at the new version are uncordoned and leave the rollout's budget.
    const uncordonBack = async (): Promise<void> => {
      const back = settleInFlight(meta, spec, k3s ?? nodesK3s, wantedNodes, Date.now());
      finished.push(...back);
      await Promise.all(back.map((node) => run(first.id, 'uncordon-node', { NODE_NAME: node })));
    };
    await uncordonBack();
    const upgradeNode = async (node: string): Promise<void> => {
      const slot = slotOfNode(node);
      const inst = slot ? bySlot.get(slot.key) : undefined;
      if (!slot || !inst) return;
      await run(inst.id, 'upgrade-k3s', { K3S_VERSION: spec.k3sVersion });
      upgrading[node] = { role: slot.role, since: new Date().toISOString(), to: spec.k3sVersion };
    };
    const inFlight = new Map(Object.entries(upgrading).map(([node, e]) => [node, e.role]));
    const batch = [...rolloutBatch(spec, plan, inFlight, meta.pause !== undefined)];
    const reruns = Object.entries(upgrading).filter(([, e]) => e.rerun);
    const upgrade = upgradeSettings(spec);
    await Promise.all([
      ...reruns.map(([node]) => upgradeNode(node)),
      ...batch.map(async (node) => {
        await run(first.id, 'cordon-node', { NODE_NAME: node });
        await run(first.id, 'drain-for-upgrade', { NODE_NAME: node, DRAIN_TIMEOUT: String(durationMs(upgrade.drainTimeout) / 1000), FORCE: String(upgrade.force) });
        await upgradeNode(node);
      }),
    ]);
    if (batch.length || reruns.length) {
      await reread();
      await uncordonBack();
    }
    const rolledK3s: ReadonlyMap<string, K3sNode> = k3s ?? nodesK3s;

    // A changed spec.backup reaches installed servers: one server restarts per pass, only while
    // every node is Ready and no rollout is under way, and not sooner than restartGapMs after the
    // last, so an HA cluster keeps its etcd quorum.
    const stale = [...slots.values()].filter((x) => x.role === 'server' && rolledK3s.has(x.nodeName) && configured[x.nodeName] !== wantedSettings);
    const settled = [...slots.values()].every((x) => rolledK3s.get(x.nodeName)?.ready) && Object.keys(upgrading).length === 0 && batch.length === 0;
    const lastRestart = meta.snapshotRestartAt === undefined ? 0 : Date.parse(meta.snapshotRestartAt);
    const next = stale[0];
    if (next && settled && Date.now() - lastRestart >= this.restartGapMs) {
      const inst = bySlot.get(next.key);
      if (inst) {
        await configureSnapshots(inst.id, next.nodeName);
        meta.snapshotRestartAt = new Date().toISOString();
      }
    }
    const reconfiguring = stale.filter((x) => configured[x.nodeName] !== wantedSettings).length;

    // Day 2 requests, on a cluster K3s answers for: an on-demand snapshot, a restore.
    if (requests.backup !== undefined && requests.backup !== handled.backup) {
      const out = await run(first.id, 'etcd-snapshot', { SNAPSHOT_NAME: requests.backup, ...s3Vars(backupTo, spec.region) });
      const firstVersion = nodesK3s.get(firstSlot?.nodeName ?? '')?.version ?? spec.k3sVersion;
      snapshots = [snapshotRecord(backupTo, requests.backup, firstVersion, out), ...snapshots.filter((x) => x.id !== requests.backup)];
      handled.backup = requests.backup;
    }
    const wanted = requests.restore;
    if (wanted !== undefined && wanted.at !== handled.restore) {
      const snap = snapshots.find((x) => x.id === wanted.snapshot);
      handled.restore = wanted.at;
      if (snap) {
        const started = new Date().toISOString();
        const done: RestoreStatus['stepsDone'] = [];
        const others = [...bySlot.values()].filter((i) => i.id !== first.id);
        const step = async (name: NonNullable<RestoreStatus['step']>, work: () => Promise<unknown>): Promise<void> => {
          restore = { snapshot: snap.id, k3sVersion: snap.k3sVersion, startedAt: started, step: name, stepsDone: [...done] };
          await report([condition('Ready', 'False', 'Restoring', `restoring ${snap.id}: ${name}`), condition('Restoring', 'True', 'Restoring', `${done.length + 1}/4 ${name}`)], nodesOf(nodesK3s), serverUrl);
          await work();
          done.push({ step: name, at: new Date().toISOString() });
        };
        const version = { K3S_VERSION: snap.k3sVersion };
        await step('stop-k3s', () => Promise.all(others.map((i) => run(i.id, 'stop-k3s', {}))));
        // The snapshot's own K3s version, then the reset: etcd and its version go back together.
        await step('reset-first-server', async () => {
          await run(first.id, 'upgrade-k3s', version);
          const source = snapshotSource(snap, backupTo, spec.region);
          await run(first.id, 'restore-snapshot', { SNAPSHOT_PATH: source.file, ...s3Vars(source.target, spec.region) });
        });
        const servers = others.filter((i) => i.role === 'server');
        await step('rejoin-servers', () => Promise.all(servers.map(async (i) => { await run(i.id, 'upgrade-k3s', version); await run(i.id, 'rejoin-server', {}); })));
        const agents = others.filter((i) => i.role === 'agent');
        await step('restart-agents', () => Promise.all(agents.map(async (i) => { await run(i.id, 'upgrade-k3s', version); await run(i.id, 'restart-k3s', {}); })));
        restore = { snapshot: snap.id, k3sVersion: snap.k3sVersion, startedAt: started, finishedAt: new Date().toISOString(), stepsDone: done };
        await reread();
      }
    }

    const pending = [...slots.values()].filter((s) => {
      const node = rolledK3s.get(s.nodeName);
      return !node?.ready || !versionMatches(spec.k3sVersion, node.version) || upgrading[s.nodeName] !== undefined;
    });
    const nodes = nodesOf(rolledK3s);
    const outdated = [...slots.values()].filter((x) => !versionMatches(spec.k3sVersion, rolledK3s.get(x.nodeName)?.version ?? spec.k3sVersion));
    const from = [...slots.values()].map((x) => nodesK3s.get(x.nodeName)?.version).find((v) => v !== undefined && !versionMatches(spec.k3sVersion, v)) ?? spec.k3sVersion;
    const rolloutConditions = rolloutReport({
      spec,
      previous: cluster.status.rollout,
      memory: meta,
      started: batch,
      finished,
      outdated: outdated.filter((x) => !upgrading[x.nodeName]).length,
      total: slots.size,
      from,
      now: Date.now(),
    });
    rollout = cluster.status.rollout;
    if (rolloutConditions.rollout) rollout = rolloutConditions.rollout;
    if (pending.length || reconfiguring) {
      const notReady = `not ready in K3s: ${nameList(pending.map((x) => x.nodeName))}`;
      const ready = rollout?.paused && !rollout.finishedAt
        ? condition('Ready', 'False', 'RolloutPaused', rollout.reason)
        : pending.length === 0
          ? condition('Ready', 'False', 'ConfiguringSnapshots', `${reconfiguring} server(s) to restart K3s with the new spec.backup settings, one at a time`)
          : condition('Ready', 'False', outdated.length || Object.keys(upgrading).length ? 'Upgrading' : 'NodesNotReady', notReady);
      const conditions = [ready, ...rolloutConditions.conditions];
      await report(conditions, nodes, serverUrl);
      return { requeueAfterMs: this.requeue.waitingMs };
    }
    await report(
      [
        condition('Ready', 'True', 'K3sReady', `${slots.size} node(s) Ready in K3s`),
        condition('Available', 'True', 'K3sReady', `API at ${serverUrl}`),
        ...rolloutConditions.conditions,
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

/** The planned action's instance among `instances`: by node name, each instance used once. */
function instanceFinder(clusterName: string, instances: readonly InstanceInfo[]): (a: Action) => InstanceInfo | undefined {
  const used = new Set<string>();
  return (a) => {
    const found = instances.find((i) => !used.has(i.id) && nodeName(clusterName, i) === a.node);
    if (found) used.add(found.id);
    return found;
  };
}

function previousMetadata(cluster: Cluster): AwsMetadata {
  const mine = cluster.status.controllers.find((c) => c.name === CONTROLLER_NAME);
  return awsMetadataSchema.parse(mine?.metadata?.aws ?? {});
}

/** Command output in goman's bucket, under the prefix the instance role may write. */
function s3Output(clients: AwsClients, bucket: string): SsmOutput {
  return {
    bucket,
    prefix: SSM_OUTPUT_PREFIX,
    read: async (b, key) => {
      try {
        const obj = await clients.s3().send(new GetObjectCommand({ Bucket: b, Key: key }));
        return await obj.Body?.transformToString();
      } catch (e) {
        if (awsErrorName(e) === 'NoSuchKey') return undefined;
        throw e;
      }
    },
  };
}

const ROLLOUT_STEPS: ReadonlySet<Action['kind']> = new Set(['cordon', 'drain', 'upgrade-k3s', 'uncordon']);
