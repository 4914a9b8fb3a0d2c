/**
 * Runs one test control plane for a whole tap run, detached from the test file that started it:
 *   control-plane-supervisor.ts STATE_DIR OWNER_PID
 * writes STATE_DIR/state.json ({ready: info} or {error}) and stops everything when the owner (the tap
 * runner) exits, on SIGTERM/SIGINT, or after MAX_LIFETIME_MS, so a killed test run leaves nothing behind.
 */
import { rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from './control-plane.js';

const MAX_LIFETIME_MS = 2 * 60 * 60 * 1000;
const [stateDir, ownerText] = process.argv.slice(2);
const owner = Number(ownerText);
if (!stateDir || !Number.isInteger(owner)) {
  process.stderr.write('usage: control-plane-supervisor.ts STATE_DIR OWNER_PID\n');
  process.exit(2);
}

function writeState(state: object): void {
  const file = join(stateDir!, 'state.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(state));
  renameSync(`${file}.tmp`, file);
}

function ownerAlive(): boolean {
  try {
    process.kill(owner, 0);
    return true;
  } catch {
    return false;
  }
}

let controlPlane: ControlPlane | undefined;
let stopped: Promise<never> | undefined;
/** Stops once: the owner check and the signals may all ask while the first stop is still running. */
function shutdown(reason: string): Promise<never> {
  stopped ??= (async () => {
    process.stderr.write(`control plane supervisor: stopping (${reason})\n`);
    await controlPlane?.stop();
    rmSync(stateDir!, { recursive: true, force: true });
    process.exit(0);
  })();
  return stopped;
}

process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
setInterval(() => {
  if (!ownerAlive()) void shutdown(`owner ${owner} exited`);
}, 1000);
setTimeout(() => void shutdown('maximum lifetime reached'), MAX_LIFETIME_MS).unref();

try {
  controlPlane = await startControlPlane(join(stateDir, 'cluster'));
  const { stop: _stop, ...info } = controlPlane;
  writeState({ ready: info, supervisor: process.pid });
} catch (error) {
  writeState({ error: (error as Error).message });
  // The state stays for the test files still waiting on it; the owner's exit (or the lifetime) removes it.
}
