/**
 * The load thread of load.ts (startLoadThread): its senders, until told 'stop'; then, once every request has
 * ended, the LoadResult.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runSenders, type LoadWorkerData } from './load.js';

const data = workerData as LoadWorkerData;
// Times count from the first request, not from the thread's creation (its start-up takes a while).
const senders = runSenders(data.url, data, Date.now(), new Int32Array(data.sentCounters));
parentPort!.postMessage('sending');
parentPort!.on('message', (message: unknown) => {
  if (message === 'stop') void senders.stop().then((result) => parentPort!.postMessage(result));
});
