// The K8s measurement: server version, this node and its images — only when a kubeconfig
// works. The client library is imported only once a kubeconfig exists, so a node without
// one pays nothing for it.
import { existsSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { Measurement, Scalar, Subtype } from '../types.ts';

function kubeconfigAvailable(): boolean {
  const env = process.env.KUBECONFIG;
  if (env) return env.split(path.delimiter).some((f) => f && existsSync(f));
  if (process.env.KUBERNETES_SERVICE_HOST && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) return true;
  return existsSync(path.join(os.homedir(), '.kube', 'config'));
}

async function getJson(url: URL, opts: RequestOptions, signal: AbortSignal): Promise<unknown> {
  const lib = url.protocol === 'http:' ? await import('node:http') : await import('node:https');
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { ...opts, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 400) {
          reject(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}`));
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new Error(`GET ${url.pathname}: not JSON`));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Node fields that describe configuration (not conditions or heartbeats). */
export function nodeSubtypes(node: unknown): Subtype[] {
  const n = obj(node);
  const spec = obj(n.spec);
  const info = obj(obj(n.status).nodeInfo);
  const data: Record<string, Scalar> = {};
  const set = (k: string, v: unknown): void => {
    const s = str(v);
    if (s !== undefined) data[k] = s;
  };
  set('name', obj(n.metadata).name);
  set('providerID', spec.providerID);
  for (const k of ['kubeletVersion', 'kubeProxyVersion', 'containerRuntimeVersion', 'kernelVersion', 'osImage', 'operatingSystem', 'architecture']) set(k, info[k]);
  for (const [k, v] of Object.entries(obj(obj(n.metadata).labels))) set(`label.${k}`, v);
  const images: Record<string, Scalar> = {};
  for (const img of Array.isArray(obj(n.status).images) ? (obj(n.status).images as unknown[]) : []) {
    for (const name of (obj(img).names as unknown[] | undefined) ?? []) {
      if (typeof name !== 'string' || name.includes('@sha256:')) continue;
      const at = name.lastIndexOf(':');
      if (at > name.lastIndexOf('/')) images[name.slice(0, at)] = name.slice(at + 1);
    }
  }
  const sorted = Object.fromEntries(Object.entries(images).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return [{ subtype: 'node', data }, { subtype: 'images', data: sorted }];
}

export async function collectK8s(signal: AbortSignal, nodeName = os.hostname()): Promise<Measurement> {
  if (!kubeconfigAvailable()) return { type: 'K8s', subtypes: [], reason: 'no kubeconfig (KUBECONFIG, ~/.kube/config or in-cluster service account)' };
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  let server: string;
  const opts: RequestOptions = {};
  try {
    kc.loadFromDefault();
    const cluster = kc.getCurrentCluster();
    if (!cluster) return { type: 'K8s', subtypes: [], reason: 'kubeconfig has no current cluster' };
    server = cluster.server;
    await kc.applyToHTTPSOptions(opts);
  } catch (e) {
    return { type: 'K8s', subtypes: [], reason: `unusable kubeconfig: ${(e as Error).message}` };
  }
  try {
    const version = obj(await getJson(new URL('/version', server), opts, signal));
    const subtypes: Subtype[] = [{ subtype: 'server', data: { version: str(version.gitVersion) ?? 'unknown', platform: str(version.platform) ?? 'unknown' } }];
    try {
      subtypes.push(...nodeSubtypes(await getJson(new URL(`/api/v1/nodes/${encodeURIComponent(nodeName)}`, server), opts, signal)));
      return { type: 'K8s', subtypes };
    } catch (e) {
      return { type: 'K8s', subtypes, reason: `node ${nodeName}: ${(e as Error).message}` };
    }
  } catch (e) {
    return { type: 'K8s', subtypes: [], reason: `cluster unreachable: ${(e as Error).message}` };
  }
}
