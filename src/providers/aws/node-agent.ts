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

export class SsmNodeAgent implements NodeAgent {
  private readonly ssm: (region: string) => SSMClient;
  private readonly pollMs: number;
  private readonly timeoutS: number;

  constructor(ssm: (region: string) => SSMClient, opts: { pollMs?: number; timeoutS?: number } = {}) {
    this.ssm = ssm;
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
        if (!RUNNING.has(status)) return { status, stdout: inv.StandardOutputContent ?? '', stderr: inv.StandardErrorContent ?? '' };
      } catch (e) {
        if (awsErrorName(e) !== 'InvocationDoesNotExist') throw e;
      }
      if (Date.now() > deadline) return { status: 'TimedOut', stdout: '', stderr: '' };
      await new Promise((r) => setTimeout(r, this.pollMs));
      signal?.throwIfAborted();
    }
  }
}
