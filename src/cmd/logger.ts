// One pino configuration for every process: JSON lines, with secrets redacted by path so a
// token, kubeconfig or join token never reaches a log even if someone logs a whole object.
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-gateway-secret"]',
  'kubeconfig',
  '*.kubeconfig',
  'joinToken',
  '*.joinToken',
  'secret',
  '*.secret',
];

export function createLogger(level: string, name = 'goman'): Logger {
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
