/**
 * The e2e load generator (e2e/helpers/load.ts) on loopback: every request ends in one bucket, and only the
 * timeouts during its own stalls are set aside as the machine's.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { lost, startLoad, timeoutsDuringStalls, type LoadResult } from '../e2e/helpers/load.js';

t.test('answers, refusals, HTTP errors and timeouts are told apart', async (t) => {
  let count = 0;
  const server = createServer((request, response) => {
    count++;
    if (count % 3 === 0) return; // never answered: a timeout
    response.writeHead(count % 3 === 1 ? 200 : 503).end('v1');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.closeAllConnections());
  const { port } = server.address() as AddressInfo;
  const load = startLoad(`http://127.0.0.1:${port}/`, 50, 300);
  await new Promise((resolve) => setTimeout(resolve, 600));
  server.close();
  const result = await load.stop();
  t.ok(result.ok > 0 && result.httpError > 0 && result.timeout > 0, JSON.stringify(result));
  t.equal(result.ok + result.refused + result.reset + result.httpError + result.timeout + result.other, result.sent, 'every request in one bucket');
  const refused = await (async () => {
    const closed = startLoad(`http://127.0.0.1:${port}/`, 50, 300);
    await new Promise((resolve) => setTimeout(resolve, 200));
    return closed.stop();
  })();
  t.ok(refused.refused > 0 && refused.refused === refused.sent, 'a closed port refuses');
});

t.test('a timeout counts as lost unless the load generator stalled while it waited', async (t) => {
  const base: LoadResult = { sent: 10, ok: 7, refused: 1, reset: 0, httpError: 0, timeout: 2, other: 0, maxLagMs: 900, stalls: [[5000, 900]], failures: [[1000, 'refused'], [5500, 'timeout'], [9000, 'timeout']] };
  t.equal(timeoutsDuringStalls(base, 3000), 1, 'the timeout at 5.5 s waited through the stall from 4.1 to 5 s');
  t.equal(lost(base, 3000), 2, 'the refusal and the timeout at 9 s are lost');
  t.equal(lost({ ...base, stalls: [] }, 3000), 3, 'no stall: every failure is lost');
});
