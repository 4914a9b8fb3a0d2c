/**
 * HTTP load through a Service, one new connection per request (as a client that does not pool would see a
 * rollout), at a fixed rate. Every request ends in exactly one bucket. The load generator also measures its own
 * event loop: a late timer means the machine (not the cluster) stalled, which explains a client timeout.
 */
import { request } from 'node:http';

export interface LoadResult {
  sent: number;
  ok: number;
  refused: number;
  reset: number;
  httpError: number;
  timeout: number;
  other: number;
  /** The longest the load generator's own event loop was late, in ms. */
  maxLagMs: number;
  /** Event-loop stalls over 250 ms, as [ms since start, ms late]. */
  stalls: Array<[number, number]>;
  /** When each failure happened (ms since start) and its kind. */
  failures: Array<[number, string]>;
}

export function failed(result: LoadResult): number {
  return result.sent - result.ok;
}

/**
 * Timeouts while the load generator itself stalled (its event loop late by 250 ms or more within the request's
 * wait): the machine, not the cluster, held the request. A timeout with no such stall is a lost request.
 */
export function timeoutsDuringStalls(result: LoadResult, timeoutMs: number): number {
  return result.failures.filter(([at, kind]) => kind === 'timeout' && result.stalls.some(([stallEnd, late]) => stallEnd - late <= at && stallEnd >= at - timeoutMs)).length;
}

/** Requests the cluster lost: every failure but the timeouts the load generator's own stalls explain. */
export function lost(result: LoadResult, timeoutMs: number): number {
  return failed(result) - timeoutsDuringStalls(result, timeoutMs);
}

export function describe(result: LoadResult): string {
  return `${result.sent} sent, ${failed(result)} failed (refused ${result.refused}, reset ${result.reset}, HTTP error ${result.httpError}, timeout ${result.timeout}, other ${result.other}); load generator's event loop late by up to ${result.maxLagMs.toFixed(0)} ms`;
}

export function startLoad(url: string, perSecond: number, timeoutMs: number): { stop(): Promise<LoadResult> } {
  const result: LoadResult = { sent: 0, ok: 0, refused: 0, reset: 0, httpError: 0, timeout: 0, other: 0, maxLagMs: 0, stalls: [], failures: [] };
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  const fail = (kind: 'refused' | 'reset' | 'httpError' | 'timeout' | 'other') => {
    result[kind]++;
    result.failures.push([Date.now() - started, kind]);
  };
  const one = () =>
    new Promise<void>((resolve) => {
      result.sent++;
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        outcome();
        resolve();
      };
      const req = request(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (response) => {
        response.resume();
        response.on('end', () => settle(() => (response.statusCode === 200 ? result.ok++ : fail('httpError'))));
        response.on('error', () => settle(() => fail('reset')));
      });
      req.on('timeout', () => {
        settle(() => fail('timeout'));
        req.destroy();
      });
      req.on('error', (error: NodeJS.ErrnoException) =>
        settle(() => fail(error.code === 'ECONNREFUSED' ? 'refused' : error.code === 'ECONNRESET' || error.code === 'EPIPE' ? 'reset' : error.code === 'ETIMEDOUT' ? 'timeout' : 'other')),
      );
      req.end();
    });
  const interval = 1000 / perSecond;
  let expected = Date.now() + interval;
  const timer = setInterval(() => {
    const now = Date.now();
    const late = now - expected;
    if (late > result.maxLagMs) result.maxLagMs = late;
    if (late > 250) result.stalls.push([now - started, late]);
    expected = now + interval;
    const request = one();
    inFlight.add(request);
    void request.then(() => inFlight.delete(request));
  }, interval);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return result;
    },
  };
}
