/**
 * Runs synchronous work for calls made in one turn of the event loop together, back to back, in the check phase
 * that follows (setImmediate).
 *
 * Why: between two admission decisions a server runs a lot of other code (TLS, HTTP parsing, routing, writes),
 * which evicts the engine from the CPU caches; measured in the running server, the first evaluation after that
 * costs about twice what the next one does. Under load, the requests read in one poll phase are decided in a row,
 * so only the first of them pays. With one request at a time, the cost is one setImmediate hop (microseconds).
 * A batch holds what one poll phase read, and each decision takes tens of microseconds, so the last answer of a
 * batch waits well under a millisecond for the ones before it (callers time from before queueing, so it shows).
 */
export function inBatches<Input, Output>(work: (input: Input) => Output): (input: Input) => Promise<Output> {
  let queue: Array<{ input: Input; resolve: (output: Output) => void; reject: (error: unknown) => void }> = [];

  function flush(): void {
    const batch = queue;
    queue = [];
    for (const { input, resolve, reject } of batch) {
      try {
        resolve(work(input));
      } catch (error) {
        reject(error);
      }
    }
  }

  return (input) =>
    new Promise<Output>((resolve, reject) => {
      if (queue.push({ input, resolve, reject }) === 1) setImmediate(flush);
    });
}
