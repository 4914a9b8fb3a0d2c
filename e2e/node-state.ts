/**
 * e2e/run.sh's look at the machine outside a run (node --import=@tapjs/typescript/import e2e/node-state.ts):
 *   check    refuse (exit 1, saying why) when what the e2e node needs is taken; clean up after a run that
 *            died without its teardown (its ledger says what it made)
 *   cleanup  only the latter (run.sh runs it after every run: a test process killed outright leaves a ledger)
 */
import { cleanupLeftovers, NodeRefused, preflight } from './helpers/node.js';

const command = process.argv[2];
try {
  if (command === 'check') {
    for (const note of await preflight()) console.error(`e2e: ${note}`);
  } else if (command === 'cleanup') {
    const report = await cleanupLeftovers();
    for (const line of report.forced) console.error(`e2e: cleanup: ${line}`);
    for (const line of report.notes) console.error(`e2e: cleanup: ${line}`);
    for (const line of report.remaining) console.error(`e2e: cleanup: left by the run, killed: ${line}`);
  } else {
    console.error('usage: node-state.ts check|cleanup');
    process.exitCode = 2;
  }
} catch (error) {
  console.error(error instanceof NodeRefused ? error.message : error);
  process.exitCode = 1;
}
