// `nvidia-smi -q -x` (nvsmi_device_v12.dtd) → GPU subtypes. Only configuration goes in:
// readings that change while the node sits idle (temperature, power draw, used memory,
// current clocks, utilisation) would make two snapshots of one node differ.
import { XMLParser } from 'fast-xml-parser';
import type { Scalar, Subtype } from '../types.ts';

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false, // "580.82.07" and "12.9" must stay strings
  trimValues: true,
  isArray: (name) => name === 'gpu' || name === 'mig_device',
});

function child(node: unknown, ...path: string[]): unknown {
  let cur: unknown = node;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Node)[p];
  }
  return cur;
}

/** A leaf's text, or undefined for absent and "N/A" leaves (nvidia-smi's "not applicable"). */
function text(node: unknown, ...path: string[]): string | undefined {
  const v = child(node, ...path);
  if (typeof v === 'string') return v === '' || v === 'N/A' ? undefined : v;
  if (v && typeof v === 'object' && typeof (v as Node)['#text'] === 'string') return text(v, '#text');
  return undefined;
}

/** "81559 MiB" → 81559; anything else stays text. */
function mib(node: unknown, ...path: string[]): Scalar | undefined {
  const v = text(node, ...path);
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?) MiB$/.exec(v);
  return m ? Number(m[1]) : v;
}

function put(data: Record<string, Scalar>, key: string, value: Scalar | undefined): void {
  if (value !== undefined) data[key] = value;
}

export interface NvidiaSmiReport {
  driver?: string;
  cuda?: string;
  gpus: Subtype[];
}

export function parseNvidiaSmiXml(xml: string): NvidiaSmiReport {
  const doc = parser.parse(xml) as Node;
  const log = doc['nvidia_smi_log'];
  if (!log || typeof log !== 'object') throw new Error('not nvidia-smi -q -x output (no <nvidia_smi_log>)');
  const gpuNodes = (child(log, 'gpu') as unknown[] | undefined) ?? [];
  const gpus = gpuNodes.map((g, index) => ({ subtype: `gpu${index}`, data: gpuData(g, index) }));
  const report: NvidiaSmiReport = { gpus };
  const driver = text(log, 'driver_version');
  const cuda = text(log, 'cuda_version');
  if (driver) report.driver = driver;
  if (cuda) report.cuda = cuda;
  return report;
}

function gpuData(g: unknown, index: number): Record<string, Scalar> {
  const d: Record<string, Scalar> = { index };
  put(d, 'pciBusId', text(g, '@id'));
  put(d, 'productName', text(g, 'product_name'));
  put(d, 'productBrand', text(g, 'product_brand'));
  put(d, 'architecture', text(g, 'product_architecture'));
  put(d, 'uuid', text(g, 'uuid'));
  put(d, 'serial', text(g, 'serial'));
  put(d, 'vbiosVersion', text(g, 'vbios_version'));
  put(d, 'persistenceMode', text(g, 'persistence_mode'));
  put(d, 'addressingMode', text(g, 'addressing_mode'));
  put(d, 'migCurrent', text(g, 'mig_mode', 'current_mig'));
  put(d, 'migPending', text(g, 'mig_mode', 'pending_mig'));
  put(d, 'eccCurrent', text(g, 'ecc_mode', 'current_ecc'));
  put(d, 'eccPending', text(g, 'ecc_mode', 'pending_ecc'));
  put(d, 'computeMode', text(g, 'compute_mode'));
  put(d, 'memoryTotalMiB', mib(g, 'fb_memory_usage', 'total'));
  put(d, 'pcieGenMax', text(g, 'pci', 'pci_gpu_link_info', 'pcie_gen', 'max_link_gen'));
  put(d, 'linkWidthMax', text(g, 'pci', 'pci_gpu_link_info', 'link_widths', 'max_link_width'));
  // Drivers before the v12 schema put power under <power_readings>; later ones under <gpu_power_readings>.
  const power = child(g, 'gpu_power_readings') ?? child(g, 'power_readings');
  put(d, 'powerLimitDefault', text(power, 'default_power_limit'));
  put(d, 'powerLimit', text(power, 'current_power_limit') ?? text(power, 'enforced_power_limit'));
  put(d, 'maxClockGraphics', text(g, 'max_clocks', 'graphics_clock'));
  put(d, 'maxClockMemory', text(g, 'max_clocks', 'mem_clock'));
  const migs = child(g, 'mig_devices', 'mig_device');
  const migList = Array.isArray(migs) ? migs : [];
  d.migDevices = migList.length;
  migList.forEach((m, i) => {
    put(d, `mig.${i}.gpuInstanceId`, text(m, 'gpu_instance_id'));
    put(d, `mig.${i}.computeInstanceId`, text(m, 'compute_instance_id'));
    put(d, `mig.${i}.multiprocessorCount`, text(m, 'device_attributes', 'shared', 'multiprocessor_count'));
    put(d, `mig.${i}.memoryTotalMiB`, mib(m, 'fb_memory_usage', 'total'));
  });
  return d;
}
