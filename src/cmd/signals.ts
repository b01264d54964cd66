// Resolves with the first SIGTERM/SIGINT, after which a second one exits at once (an
// operator pressing Ctrl-C twice wants out, deadline or not).
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', first);
      process.off('SIGINT', first);
      process.once('SIGTERM', () => process.exit(143));
      process.once('SIGINT', () => process.exit(130));
      resolve(signal);
    };
    process.once('SIGTERM', first);
    process.once('SIGINT', first);
  });
}
