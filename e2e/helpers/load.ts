/**
 * HTTP load through a Service, one new connection per request (as a client that does not pool would see a
 * rollout), at a fixed rate. Every request ends in exactly one bucket. The load generator also measures its
 * own event loop: a late timer means the machine (not the cluster) stalled, which explains a client timeout.
 *
 * startLoad runs one sender in the calling thread; startLoadThread runs `senders` independent senders, each at
 * `perSenderPerSecond`, in a thread of their own (load-worker.ts), so that the test's own work (kubectl,
 * watches, a proxy) never holds a request back.
 */
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

export interface LoadResult {
  sent: number;
  ok: number;
  refused: number;
  reset: number;
  httpError: number;
  timeout: number;
  other: number;
  /** The other failures' error codes (EHOSTUNREACH, EADDRNOTAVAIL, ...), counted. */
  otherCodes?: Record<string, number>;
  /** The longest the load generator's own event loop was late, in ms. */
  maxLagMs: number;
  /** Event-loop stalls over 250 ms, as [ms since start, ms late]. */
  stalls: Array<[number, number]>;
  /** When each failure happened (ms since start) and its kind. */
  failures: Array<[number, string]>;
  /** How long the load ran, in ms. */
  durationMs?: number;
}

export interface LoadOptions {
  senders: number;
  perSenderPerSecond: number;
  /** A request not answered in this long counts as a timeout. */
  timeoutMs: number;
}

/** What the load thread is told (workerData). */
export interface LoadWorkerData extends LoadOptions {
  url: string;
  /** One Int32 per sender: requests sent so far, readable while the load runs. */
  sentCounters: SharedArrayBuffer;
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
  const codes = Object.entries(result.otherCodes ?? {}).map(([code, count]) => `${code} ${count}`).join(', ');
  const rate = result.durationMs ? `; ${(result.sent / (result.durationMs / 1000)).toFixed(0)}/s over ${(result.durationMs / 1000).toFixed(0)} s` : '';
  return `${result.sent} sent, ${failed(result)} failed (refused ${result.refused}, reset ${result.reset}, HTTP error ${result.httpError}, timeout ${result.timeout}, other ${result.other}${codes ? ` [${codes}]` : ''})${rate}; load generator's event loop late by up to ${result.maxLagMs.toFixed(0)} ms`;
}

export interface Load {
  /** Requests sent so far. */
  sent(): number;
  /** Stops once at least `atLeast` requests have been sent, and returns when every request has ended. */
  stop(atLeast?: number): Promise<LoadResult>;
}

/** The senders, in the calling thread: what startLoad runs here and load-worker.ts runs in its thread. */
export function runSenders(url: string, options: LoadOptions, started: number, counters: Int32Array): { stop(): Promise<LoadResult> } {
  const result: LoadResult = { sent: 0, ok: 0, refused: 0, reset: 0, httpError: 0, timeout: 0, other: 0, otherCodes: {}, maxLagMs: 0, stalls: [], failures: [], durationMs: 0 };
  const inFlight = new Set<Promise<void>>();
  const since = () => Date.now() - started;
  const fail = (kind: 'refused' | 'reset' | 'httpError' | 'timeout' | 'other', code?: string) => {
    result[kind]++;
    if (kind === 'other') result.otherCodes![code ?? 'unknown'] = (result.otherCodes![code ?? 'unknown'] ?? 0) + 1;
    result.failures.push([since(), kind]);
  };
  const one = (sender: number) =>
    new Promise<void>((resolve) => {
      result.sent++;
      Atomics.add(counters, sender, 1);
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        outcome();
        resolve();
      };
      const req = request(url, { agent: false, timeout: options.timeoutMs, headers: { connection: 'close' } }, (response) => {
        response.resume();
        response.on('end', () => settle(() => (response.statusCode === 200 ? result.ok++ : fail('httpError'))));
        response.on('error', () => settle(() => fail('reset')));
      });
      req.on('timeout', () => {
        settle(() => fail('timeout'));
        req.destroy();
      });
      req.on('error', (error: NodeJS.ErrnoException) =>
        settle(() => {
          if (error.code === 'ECONNREFUSED') fail('refused');
          else if (error.code === 'ECONNRESET' || error.code === 'EPIPE') fail('reset');
          else if (error.code === 'ETIMEDOUT') fail('timeout');
          else fail('other', error.code ?? error.message);
        }),
      );
      req.end();
    });
  const interval = 1000 / options.perSenderPerSecond;
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  for (let sender = 0; sender < options.senders; sender++) {
    // Each sender keeps to its own clock (a request every `interval` from its start, so timer latency does not
    // slow the rate down); the senders start spread over one interval, so that requests are evenly spaced. A
    // stall is not made up for with a burst: the clock starts again after it.
    let expected = Date.now() + (interval * sender) / options.senders;
    const tick = () => {
      if (stopped) return;
      const now = Date.now();
      const late = now - expected;
      if (late > result.maxLagMs) result.maxLagMs = late;
      if (late > 250) result.stalls.push([now - started, late]);
      expected = late > 250 ? now + interval : expected + interval;
      const request = one(sender);
      inFlight.add(request);
      void request.then(() => inFlight.delete(request));
      schedule();
    };
    const schedule = () => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        tick();
      }, Math.max(0, expected - Date.now()));
      timers.add(timer);
    };
    schedule();
  }
  return {
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      result.durationMs = since();
      await Promise.all([...inFlight]);
      result.failures.sort((a, b) => a[0] - b[0]);
      result.stalls.sort((a, b) => a[0] - b[0]);
      return result;
    },
  };
}

/** One sender at `perSecond`, in this thread. */
export function startLoad(url: string, perSecond: number, timeoutMs: number): Load {
  const counters = new Int32Array(new SharedArrayBuffer(4));
  const senders = runSenders(url, { senders: 1, perSenderPerSecond: perSecond, timeoutMs }, Date.now(), counters);
  return {
    sent: () => Atomics.load(counters, 0),
    async stop(atLeast = 0) {
      while (Atomics.load(counters, 0) < atLeast) await sleep(100);
      return senders.stop();
    },
  };
}

/** `senders` senders at `perSenderPerSecond` each, in a thread of their own; resolves once they send. */
export async function startLoadThread(url: string, options: LoadOptions): Promise<Load> {
  const sentCounters = new SharedArrayBuffer(4 * options.senders);
  const counters = new Int32Array(sentCounters);
  const data: LoadWorkerData = { ...options, url, sentCounters };
  const worker = new Worker(new URL('./load-worker.ts', import.meta.url), { workerData: data });
  let failure: Error | undefined;
  const messages: unknown[] = [];
  const waiting: Array<(message: unknown) => void> = [];
  worker.on('message', (message) => {
    const next = waiting.shift();
    if (next) next(message);
    else messages.push(message);
  });
  worker.on('error', (error) => (failure = error));
  const gone = new Promise<never>((_, reject) => worker.once('exit', (code) => reject(failure ?? new Error(`the load thread exited (${code})`))));
  const message = () => Promise.race([gone, new Promise<unknown>((resolve) => (messages.length > 0 ? resolve(messages.shift()) : waiting.push(resolve)))]);
  if ((await message()) !== 'sending') throw new Error('the load thread did not start');
  const sent = () => counters.reduce((sum, _, index) => sum + Atomics.load(counters, index), 0);
  return {
    sent,
    async stop(atLeast = 0) {
      while (sent() < atLeast && !failure) await sleep(100);
      if (failure) throw failure;
      worker.postMessage('stop');
      try {
        return (await message()) as LoadResult;
      } finally {
        await worker.terminate();
      }
    },
  };
}
