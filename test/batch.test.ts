import t from 'tap';
import { inBatches } from '../src/server/batch.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Work that records which inputs ran back to back, with no microtask checkpoint between them. */
function recorded<Input, Output>(work: (input: Input) => Output) {
  const batches: Input[][] = [];
  let current: Input[] | undefined;
  const run = inBatches((input: Input) => {
    if (!current) {
      current = [];
      batches.push(current);
      queueMicrotask(() => (current = undefined));
    }
    current.push(input);
    return work(input);
  });
  return { run, batches };
}

t.test('calls made in one turn are worked in that order, after the turn, one batch', async (t) => {
  const { run: double, batches } = recorded((input: number) => input * 2);
  const answers = [double(1), double(2), double(3)];
  t.same(batches, [], 'nothing runs while the caller still holds the turn');
  t.same(await Promise.all(answers), [2, 4, 6], 'each call gets its own answer');
  t.same(batches, [[1, 2, 3]], 'all three ran back to back');
  await nextTurn();
  t.same(await double(4), 8);
  t.same(batches, [[1, 2, 3], [4]], 'a later turn starts a new batch');
});

t.test('calls from separate callbacks of one event-loop phase (requests read from several sockets) share a batch', async (t) => {
  const { run: double, batches } = recorded((input: number) => input * 2);
  const answers = await new Promise<Array<Promise<number>>>((resolve) => {
    const made: Array<Promise<number>> = [];
    setImmediate(() => made.push(double(1)));
    setImmediate(() => made.push(double(2)));
    setImmediate(() => resolve(made));
  });
  t.same(await Promise.all(answers), [2, 4]);
  t.same(batches, [[1, 2]], 'a per-call microtask would have given [[1], [2]]');
});

t.test('a call that throws rejects alone; the rest of its batch is answered', async (t) => {
  const check = inBatches((input: string) => {
    if (input === 'bad') throw new Error(`refused ${input}`);
    return input.toUpperCase();
  });
  const [first, bad, last] = await Promise.allSettled([check('a'), check('bad'), check('c')]);
  t.same(first, { status: 'fulfilled', value: 'A' });
  t.equal(bad?.status, 'rejected');
  t.match((bad as PromiseRejectedResult).reason, { message: 'refused bad' });
  t.same(last, { status: 'fulfilled', value: 'C' });
});

t.test('a call made while a batch runs goes into the next batch and is answered', async (t) => {
  let inner: Promise<number> | undefined;
  const work: (input: number) => number = (input) => {
    if (input === 1) inner = call(10);
    return input + 1;
  };
  const call = inBatches(work);
  t.equal(await call(1), 2);
  t.equal(await inner, 11);
});
