// Resolves with the first SIGTERM/SIGINT, after which a second one exits at once (an
// operator pressing Ctrl-C twice wants out, deadline or not). Until then the process stays up
// even if nothing else holds the event loop (signal listeners do not), so a worker never ends
// with Node's "unsettled top-level await".
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 2 ** 30);
    const first = (signal: NodeJS.Signals): void => {
      clearInterval(keepAlive);
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
