// Running goman's fixed scripts on nodes: SSM RunCommand with the AWS-RunShellScript document
// (DESIGN §7: no SSH keys). The interface lets tests observe what ran; the SSM implementation
// is the only one goman ships.
import { GetCommandInvocationCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { awsErrorName } from '../../aws/clients.ts';
import type { ScriptName } from './scripts.ts';
import { renderScript } from './scripts.ts';
import { inSpan } from '../../util/trace.ts';

export interface NodeCommand {
  region: string;
  instanceId: string;
  script: ScriptName;
  vars: Record<string, string>;
}

export interface NodeCommandResult {
  /** SSM's final status: Success, Failed, TimedOut, Cancelled... or NotReachable before the agent registered. */
  status: string;
  stdout: string;
  stderr: string;
}

export interface NodeAgent {
  run(command: NodeCommand, signal?: AbortSignal): Promise<NodeCommandResult>;
}

const RUNNING = new Set(['Pending', 'InProgress', 'Delayed']);

/** SSM keeps at most this many characters of a command's stdout in GetCommandInvocation. */
export const SSM_OUTPUT_LIMIT = 24_000;

/** Where SSM writes a command's whole output (S3), and how goman reads an object back. */
export interface SsmOutput {
  bucket: string;
  /** Key prefix, e.g. "ssm-output/"; the instance role may write only there. */
  prefix: string;
  read(bucket: string, key: string): Promise<string | undefined>;
}

/** The key SSM gives a RunShellScript's stdout under OutputS3KeyPrefix. */
export function ssmStdoutKey(prefix: string, commandId: string, instanceId: string): string {
  return `${prefix}${commandId}/${instanceId}/awsrunShellScript/0.awsrunShellScript/stdout`;
}

export class SsmNodeAgent implements NodeAgent {
  private readonly ssm: (region: string) => SSMClient;
  private readonly pollMs: number;
  private readonly timeoutS: number;
  private readonly output: SsmOutput | undefined;

  constructor(ssm: (region: string) => SSMClient, opts: { pollMs?: number; timeoutS?: number; output?: SsmOutput } = {}) {
    this.ssm = ssm;
    this.output = opts.output;
    this.pollMs = opts.pollMs ?? 2000;
    this.timeoutS = opts.timeoutS ?? 600;
  }

  run(cmd: NodeCommand, signal?: AbortSignal): Promise<NodeCommandResult> {
    const attributes = { 'goman.ssm.script': cmd.script, 'goman.instance.id': cmd.instanceId };
    return inSpan(`ssm ${cmd.script}`, { attributes }, () => this.runCommand(cmd, signal));
  }

  private async runCommand(cmd: NodeCommand, signal?: AbortSignal): Promise<NodeCommandResult> {
    const ssm = this.ssm(cmd.region);
    let commandId: string | undefined;
    try {
      const sent = await ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [cmd.instanceId],
          Comment: `goman ${cmd.script}`,
          TimeoutSeconds: this.timeoutS,
          Parameters: { commands: renderScript(cmd.script, cmd.vars), executionTimeout: [String(this.timeoutS)] },
          ...(this.output ? { OutputS3BucketName: this.output.bucket, OutputS3KeyPrefix: this.output.prefix } : {}),
        }),
        { abortSignal: signal },
      );
      commandId = sent.Command?.CommandId;
    } catch (e) {
      // The SSM agent on a fresh instance registers a little after EC2 says running.
      if (awsErrorName(e) === 'InvalidInstanceId') return { status: 'NotReachable', stdout: '', stderr: 'SSM agent not registered yet' };
      throw e;
    }
    if (!commandId) throw new Error('SSM SendCommand returned no command id');
    const deadline = Date.now() + (this.timeoutS + 60) * 1000;
    for (;;) {
      try {
        const inv = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: cmd.instanceId }), { abortSignal: signal });
        const status = inv.Status ?? 'Pending';
        if (!RUNNING.has(status)) return await this.finished(status, inv.StandardOutputContent ?? '', inv.StandardErrorContent ?? '', commandId, cmd);
      } catch (e) {
        if (awsErrorName(e) !== 'InvocationDoesNotExist') throw e;
      }
      if (Date.now() > deadline) return { status: 'TimedOut', stdout: '', stderr: '' };
      await new Promise((r) => setTimeout(r, this.pollMs));
      signal?.throwIfAborted();
    }
  }

  /** Output past SSM's 24 000 characters is read whole from S3; without S3 output it is a failure, never half a document. */
  private async finished(status: string, stdout: string, stderr: string, commandId: string, cmd: NodeCommand): Promise<NodeCommandResult> {
    if (stdout.length < SSM_OUTPUT_LIMIT) return { status, stdout, stderr };
    const whole = this.output ? await this.output.read(this.output.bucket, ssmStdoutKey(this.output.prefix, commandId, cmd.instanceId)) : undefined;
    if (whole !== undefined) return { status, stdout: whole, stderr };
    return { status: 'OutputTruncated', stdout: '', stderr: `${cmd.script} printed more than ${SSM_OUTPUT_LIMIT} characters and its S3 copy could not be read` };
  }
}
