// Whatever a benchmark starts must stop, also when the user presses Ctrl-C: resources register a
// stop function here, and SIGINT / SIGTERM run them all before the process exits.
type Stopper = () => Promise<void>;

const stoppers = new Set<Stopper>();
let installed = false;
let exiting = false;

async function stopAll(): Promise<void> {
  const all = [...stoppers];
  stoppers.clear();
  await Promise.allSettled(all.map((s) => s()));
}

function onSignal(signal: NodeJS.Signals): void {
  if (exiting) return;
  exiting = true;
  process.stderr.write(`\n${signal}: stopping what the benchmark started...\n`);
  void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}

/** Registers `stop`; returns a function that unregisters it (call it once stopped normally). */
export function stopOnExit(stop: Stopper): () => void {
  if (!installed) {
    installed = true;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}
