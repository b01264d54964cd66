// Running a node tool (nvidia-smi, systemctl) without a shell: arguments go straight to
// execve, and the snapshot deadline's signal kills the child when time is up.
import { execFile } from 'node:child_process';

export interface ExecResult {
  stdout: string;
}

/** Why a command gave no usable output, worded for a measurement's `reason`. */
export class CommandUnavailable extends Error {}

export function runCommand(file: string, args: string[], signal: AbortSignal, maxBuffer = 32 * 1024 * 1024): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { signal, maxBuffer, encoding: 'utf8', windowsHide: true }, (err, stdout, stderr) => {
      if (!err) {
        resolve({ stdout });
        return;
      }
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') reject(new CommandUnavailable(`${file} not found`));
      else if (code === 'EACCES') reject(new CommandUnavailable(`${file} is not executable`));
      else if (err.name === 'AbortError') reject(new CommandUnavailable(`${file} did not finish before the deadline`));
      else {
        const detail = (stderr || stdout || err.message).trim().split('\n')[0] ?? '';
        reject(new CommandUnavailable(`${file} failed: ${detail.slice(0, 200)}`));
      }
    });
  });
}
