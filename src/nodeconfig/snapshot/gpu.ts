// The GPU measurement: every GPU nvidia-smi reports, one subtype each, plus a `summary`.
import type { Measurement, Scalar } from '../types.ts';
import { CommandUnavailable, runCommand } from './exec.ts';

/** The nvidia-smi binary: an explicit option, then GOMAN_NVIDIA_SMI, then PATH. */
export function nvidiaSmiPath(explicit?: string): string {
  return explicit ?? process.env.GOMAN_NVIDIA_SMI ?? 'nvidia-smi';
}

export async function collectGpu(signal: AbortSignal, command?: string): Promise<Measurement> {
  const file = nvidiaSmiPath(command);
  let xml: string;
  try {
    xml = (await runCommand(file, ['-q', '-x'], signal)).stdout;
  } catch (e) {
    if (e instanceof CommandUnavailable) return { type: 'GPU', subtypes: [], reason: e.message };
    throw e;
  }
  // The XML parser loads only when there is XML: most nodes that run a snapshot have no GPU.
  const { parseNvidiaSmiXml } = await import('./nvidia-smi-xml.ts');
  let report;
  try {
    report = parseNvidiaSmiXml(xml);
  } catch (e) {
    return { type: 'GPU', subtypes: [], reason: `unreadable nvidia-smi output: ${(e as Error).message}` };
  }
  const products = [...new Set(report.gpus.map((g) => g.data.productName).filter((p) => p !== undefined))];
  const summary: Record<string, Scalar> = {
    count: report.gpus.length,
    migEnabled: report.gpus.filter((g) => g.data.migCurrent === 'Enabled').length,
  };
  if (report.driver) summary.driver = report.driver;
  if (report.cuda) summary.cuda = report.cuda;
  if (products.length) summary.product = products.join(', ');
  return { type: 'GPU', subtypes: [{ subtype: 'summary', data: summary }, ...report.gpus] };
}
