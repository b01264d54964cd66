import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { collectGpu } from '../../src/nodeconfig/snapshot/gpu.ts';
import { collectSnapshot } from '../../src/nodeconfig/snapshot/index.ts';
import { collectK8s } from '../../src/nodeconfig/snapshot/k8s.ts';
import { collectOs, isVolatileSysctl, parseCmdline, parseOsRelease, readSysctl } from '../../src/nodeconfig/snapshot/os.ts';
import { collectSystemd, parseSystemctlShow } from '../../src/nodeconfig/snapshot/systemd.ts';
import { snapshotSchema, type Measurement } from '../../src/nodeconfig/types.ts';
import { ENTRY, fakeNvidiaSmi, GOMAN, NODE, printFixture, REPO, tempDir } from './helpers.ts';

const run = promisify(execFile);
const signal = (): AbortSignal => AbortSignal.timeout(10_000);
const sub = (m: Measurement, name: string) => m.subtypes.find((s) => s.subtype === name);

let dir: string;
before(async () => {
  dir = await tempDir();
});

describe('OS collector on this machine', () => {
  test('reads release, kernel, cmdline, sysctl and kmod', async () => {
    const m = await collectOs();
    assert.equal(m.type, 'OS');
    assert.ok(typeof sub(m, 'release')?.data.ID === 'string', 'os-release ID present');
    const kernel = sub(m, 'kernel')?.data;
    assert.match(String(kernel?.version), /^\d+\.\d+/);
    assert.ok(kernel?.arch);
    assert.ok(typeof sub(m, 'cmdline')?.data.raw === 'string');
    const sysctl = sub(m, 'sysctl')?.data ?? {};
    assert.ok(Object.keys(sysctl).length > 10, 'some sysctl keys read');
    // Some container kernels have no /proc/modules: then the reason says so instead.
    if (existsSync('/proc/modules')) assert.ok(sub(m, 'kmod'), 'kmod subtype present');
    else assert.match(m.reason ?? '', /kmod/);
  });

  test('sysctl leaves out volatile and identifying keys (eidos included uuid, boot_id, hostname)', async () => {
    const sysctl = await readSysctl('/proc');
    for (const key of Object.keys(sysctl)) {
      assert.doesNotMatch(key, /^kernel\.random\.|^kernel\.(hostname|domainname|ns_last_pid)$|^fs\.(dentry-state|file-nr|inode-nr)$/);
    }
    for (const k of ['kernel.random.uuid', 'kernel.random.boot_id', 'kernel.random.entropy_avail', 'kernel.hostname', 'kernel.domainname', 'kernel.ns_last_pid', 'fs.file-nr', 'fs.inode-nr', 'fs.dentry-state']) {
      assert.ok(isVolatileSysctl(k), k);
    }
    assert.ok(!isVolatileSysctl('net.ipv4.ip_forward'));
    assert.ok(!isVolatileSysctl('vm.swappiness'));
  });

  test('two snapshots a second apart give identical sysctl data', async () => {
    const a = await readSysctl('/proc');
    await new Promise((r) => setTimeout(r, 1000));
    const b = await readSysctl('/proc');
    assert.deepEqual(b, a);
  });

  test('parsers: os-release quoting, cmdline flags and init arguments', () => {
    assert.deepEqual(parseOsRelease('# c\nID=ubuntu\nVERSION_ID="24.04"\nNAME=\'Ubuntu\'\n'), { ID: 'ubuntu', VERSION_ID: '24.04', NAME: 'Ubuntu' });
    const c = parseCmdline('BOOT_IMAGE=/vmlinuz ro quiet iommu=pt -- --init-flag\n');
    assert.equal(c.BOOT_IMAGE, '/vmlinuz');
    assert.equal(c.quiet, true);
    assert.equal(c.iommu, 'pt');
    assert.equal(c['--init-flag'], undefined);
  });

  test('an unreadable source costs only its subtype, with a reason', async () => {
    const m = await collectOs({ osRelease: path.join(dir, 'missing-os-release'), proc: '/proc' });
    assert.equal(sub(m, 'release'), undefined);
    assert.ok(sub(m, 'kernel'));
    assert.match(m.reason ?? '', /release/);
  });
});

describe('GPU collector', () => {
  test('one H100', async () => {
    const m = await collectGpu(signal(), await fakeNvidiaSmi(dir, printFixture('nvidia-smi-1gpu-h100.xml')));
    assert.equal(m.reason, undefined);
    assert.deepEqual(sub(m, 'summary')?.data, { count: 1, migEnabled: 0, driver: '580.105.08', cuda: '13.0', product: 'NVIDIA H100 80GB HBM3' });
    const g = sub(m, 'gpu0')?.data;
    assert.equal(g?.architecture, 'Hopper');
    assert.equal(g?.persistenceMode, 'Enabled');
    assert.equal(g?.eccCurrent, 'Enabled');
    assert.equal(g?.memoryTotalMiB, 81559);
    assert.equal(g?.migCurrent, 'Disabled');
    assert.equal(g?.migDevices, 0);
  });

  test('8 H100s: every GPU reported and MIG state kept (eidos reported only the first and dropped MIG)', async () => {
    const m = await collectGpu(signal(), await fakeNvidiaSmi(dir, printFixture('nvidia-smi-8gpu-h100.xml')));
    const gpus = m.subtypes.filter((s) => s.subtype.startsWith('gpu'));
    assert.equal(gpus.length, 8);
    assert.deepEqual(gpus.map((g) => g.subtype), ['gpu0', 'gpu1', 'gpu2', 'gpu3', 'gpu4', 'gpu5', 'gpu6', 'gpu7']);
    assert.equal(new Set(gpus.map((g) => g.data.uuid)).size, 8);
    assert.equal(sub(m, 'summary')?.data.count, 8);
    assert.equal(sub(m, 'summary')?.data.migEnabled, 2);
    const g2 = sub(m, 'gpu2')?.data;
    assert.equal(g2?.migCurrent, 'Enabled');
    assert.equal(g2?.migDevices, 3);
    assert.equal(g2?.['mig.2.gpuInstanceId'], '9');
    assert.equal(g2?.['mig.0.memoryTotalMiB'], 9984);
    assert.equal(sub(m, 'gpu3')?.data.migDevices, 2);
    assert.equal(sub(m, 'gpu3')?.data['mig.1.multiprocessorCount'], '60');
    assert.equal(sub(m, 'gpu5')?.data.migCurrent, 'Disabled');
    assert.equal(sub(m, 'gpu5')?.data.migPending, 'Enabled');
  });

  test('GB200 tray: four Blackwell GPUs with the driver version', async () => {
    const m = await collectGpu(signal(), await fakeNvidiaSmi(dir, printFixture('nvidia-smi-gb200.xml')));
    assert.equal(sub(m, 'summary')?.data.count, 4);
    assert.equal(sub(m, 'summary')?.data.driver, '580.82.07');
    assert.equal(sub(m, 'summary')?.data.product, 'NVIDIA GB200');
    assert.equal(sub(m, 'gpu3')?.data.architecture, 'Blackwell');
  });

  test('missing nvidia-smi: empty measurement with a reason', async () => {
    const m = await collectGpu(signal(), path.join(dir, 'no-such-nvidia-smi'));
    assert.deepEqual(m.subtypes, []);
    assert.match(m.reason ?? '', /not found/);
  });

  test('nvidia-smi failing or printing garbage: empty measurement with a reason', async () => {
    const failing = await collectGpu(signal(), await fakeNvidiaSmi(dir, 'echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver" >&2; exit 9'));
    assert.match(failing.reason ?? '', /could not communicate/);
    const garbage = await collectGpu(signal(), await fakeNvidiaSmi(dir, 'echo hello'));
    assert.match(garbage.reason ?? '', /unreadable/);
  });

  test('GOMAN_NVIDIA_SMI points the collector at another binary', async () => {
    process.env.GOMAN_NVIDIA_SMI = await fakeNvidiaSmi(dir, printFixture('nvidia-smi-gb200.xml'));
    try {
      const m = await collectGpu(signal());
      assert.equal(sub(m, 'summary')?.data.count, 4);
    } finally {
      delete process.env.GOMAN_NVIDIA_SMI;
    }
  });
});

describe('SystemD and K8s collectors', () => {
  test('no systemd: empty measurement with a reason', async () => {
    const m = await collectSystemd(signal(), { runtimeDir: path.join(dir, 'no-systemd') });
    assert.deepEqual(m.subtypes, []);
    assert.match(m.reason ?? '', /systemd/);
  });

  test('systemctl show output: one subtype per installed unit', () => {
    const out = 'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n\nLoadState=not-found\nActiveState=inactive\n\nLoadState=loaded\nActiveState=activating\n';
    const subs = parseSystemctlShow(out, ['containerd', 'docker', 'kubelet']);
    assert.equal(subs[0]?.data.ActiveState, 'active');
    assert.equal(subs[1]?.data.LoadState, 'not-found');
    assert.equal(subs[2]?.subtype, 'kubelet');
  });

  test('no kubeconfig: empty measurement with a reason, and no failure', async () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
    process.env.KUBECONFIG = path.join(dir, 'no-kubeconfig');
    try {
      const m = await collectK8s(signal(), 'node-a');
      assert.deepEqual(m.subtypes, []);
      assert.match(m.reason ?? '', /kubeconfig/);
    } finally {
      if (saved.KUBECONFIG === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved.KUBECONFIG;
    }
  });

  test('a working kubeconfig: server version, this node and its images', async (t) => {
    // No cluster runs on test machines: a tiny HTTP server answers the two API calls the
    // collector makes, with the shapes the Kubernetes API returns.
    const server = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/version') res.end(JSON.stringify({ gitVersion: 'v1.32.4-eks-1a2b3c', platform: 'linux/amd64' }));
      else if (req.url === '/api/v1/nodes/node-a') {
        res.end(JSON.stringify({
          metadata: { name: 'node-a', labels: { 'nvidia.com/gpu.present': 'true' } },
          spec: { providerID: 'aws:///us-east-1a/i-0abc' },
          status: { nodeInfo: { kubeletVersion: 'v1.32.4-eks-1a2b3c', osImage: 'Ubuntu 24.04.1 LTS', containerRuntimeVersion: 'containerd://1.7.24' }, images: [{ names: ['nvcr.io/nvidia/gpu-operator@sha256:abc', 'nvcr.io/nvidia/gpu-operator:v25.3.3'] }] },
        }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const port = (server.address() as AddressInfo).port;
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t0ken\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`);
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = kubeconfig;
    try {
      const m = await collectK8s(signal(), 'node-a');
      assert.equal(m.reason, undefined);
      assert.equal(sub(m, 'server')?.data.version, 'v1.32.4-eks-1a2b3c');
      assert.equal(sub(m, 'node')?.data.providerID, 'aws:///us-east-1a/i-0abc');
      assert.equal(sub(m, 'node')?.data['label.nvidia.com/gpu.present'], 'true');
      assert.deepEqual(sub(m, 'images')?.data, { 'nvcr.io/nvidia/gpu-operator': 'v25.3.3' });
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });
});

describe('whole snapshot', () => {
  test('a hung collector is cut off at the deadline; the snapshot still succeeds', async () => {
    const hung = await fakeNvidiaSmi(dir, 'exec sleep 30');
    const s = await collectSnapshot({ timeoutMs: 2000, nvidiaSmi: hung, nodeName: 'node-a' });
    const gpu = s.measurements.find((m) => m.type === 'GPU');
    assert.deepEqual(gpu?.subtypes, []);
    assert.match(gpu?.reason ?? '', /deadline/);
    assert.deepEqual(s.measurements.map((m) => m.type), ['OS', 'GPU', 'SystemD', 'K8s']);
  });

  test('shape: kind, apiVersion, metadata and the four measurement types', async () => {
    const s = await collectSnapshot({ nvidiaSmi: await fakeNvidiaSmi(dir, printFixture('nvidia-smi-1gpu-h100.xml')), nodeName: 'node-a' });
    assert.ok(snapshotSchema.safeParse(s).success);
    assert.equal(s.kind, 'Snapshot');
    assert.equal(s.apiVersion, 'goman.io/v1');
    assert.equal(s.metadata.node, 'node-a');
    assert.deepEqual(s.measurements.map((m) => m.type), ['OS', 'GPU', 'SystemD', 'K8s']);
  });

  test('`goman snapshot` works here with no cluster and no GPU (eidos failed without a cluster)', async () => {
    const env = { ...process.env, GOMAN_NVIDIA_SMI: path.join(dir, 'absent'), KUBECONFIG: path.join(dir, 'absent-kubeconfig'), XDG_CONFIG_HOME: dir };
    const { stdout } = await run(NODE, [GOMAN, 'snapshot', '-o', 'yaml'], { cwd: REPO, env });
    const s = snapshotSchema.parse(parseYaml(stdout));
    assert.ok(s.measurements.find((m) => m.type === 'OS')?.subtypes.length);
    for (const type of ['GPU', 'K8s']) assert.ok(s.measurements.find((m) => m.type === type)?.reason, `${type} has a reason`);
    const out = path.join(dir, 'snap.json');
    await run(NODE, [ENTRY, 'snapshot', '--file', out, '--timeout', '2s'], { cwd: REPO, env });
    const { readFile } = await import('node:fs/promises');
    assert.equal(snapshotSchema.parse(JSON.parse(await readFile(out, 'utf8'))).kind, 'Snapshot');
  });
});

after(async () => {
  const { rm } = await import('node:fs/promises');
  await rm(dir, { recursive: true, force: true });
});
