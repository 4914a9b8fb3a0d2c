import { Counter, Histogram, Registry } from 'prom-client';
import t from 'tap';
import { DeferredCounter, DeferredHistogram } from '../src/server/deferred-metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** The same operations on deferred metrics and on plain prom-client ones; their /metrics texts must match. */
function pair() {
  const deferredRegistry = new Registry();
  const plainRegistry = new Registry();
  const counterConfig = { name: 'test_requests_total', help: 'h', labelNames: ['endpoint', 'decision'] as const };
  const histogramConfig = { name: 'test_duration_seconds', help: 'h', labelNames: ['endpoint'] as const };
  const deferred = {
    counter: new DeferredCounter({ ...counterConfig, registry: deferredRegistry }),
    histogram: new DeferredHistogram({ ...histogramConfig, buckets: BUCKETS, registry: deferredRegistry }),
  };
  const plain = {
    counter: new Counter({ ...counterConfig, registers: [plainRegistry] }),
    histogram: new Histogram({ ...histogramConfig, buckets: BUCKETS, registers: [plainRegistry] }),
  };
  return {
    inc(labels: { endpoint: string; decision: string }) {
      deferred.counter.inc({ ...labels });
      plain.counter.inc({ ...labels });
    },
    observe(labels: { endpoint: string }, value: number) {
      deferred.histogram.observe({ ...labels }, value);
      plain.histogram.observe({ ...labels }, value);
    },
    scrape: async () => ({ deferred: await deferredRegistry.metrics(), plain: await plainRegistry.metrics() }),
  };
}

t.test('a scrape shows exactly what plain prom-client counts, scrape after scrape', async (t) => {
  const metrics = pair();
  const empty = await metrics.scrape();
  t.equal(empty.deferred, empty.plain, 'nothing counted yet');
  for (let i = 0; i < 7; i++) metrics.inc({ endpoint: 'validate', decision: i % 3 === 0 ? 'denied' : 'allowed' });
  metrics.inc({ endpoint: 'mutate', decision: 'patched' });
  for (const value of [0.0004, 0.002, 0.002, 0.5, 3]) metrics.observe({ endpoint: 'validate' }, value);
  metrics.observe({ endpoint: 'mutate' }, 0.02);
  const first = await metrics.scrape();
  t.equal(first.deferred, first.plain);
  t.match(first.deferred, 'test_requests_total{endpoint="validate",decision="allowed"} 4');
  t.match(first.deferred, 'test_duration_seconds_count{endpoint="validate"} 5');
  const again = await metrics.scrape();
  t.equal(again.deferred, first.deferred, 'a second scrape counts nothing twice');
  metrics.inc({ endpoint: 'validate', decision: 'allowed' });
  metrics.observe({ endpoint: 'validate' }, 0.05);
  const later = await metrics.scrape();
  t.equal(later.deferred, later.plain, 'counts made after a scrape are added to the earlier ones');
  t.match(later.deferred, 'test_requests_total{endpoint="validate",decision="allowed"} 5');
});

t.test('many observations between two scrapes (more than are kept pending) are all counted', async (t) => {
  const metrics = pair();
  for (let i = 0; i < 10_000; i++) metrics.observe({ endpoint: 'validate' }, (i % 100) / 1000);
  const { deferred, plain } = await metrics.scrape();
  t.equal(deferred, plain);
  t.match(deferred, 'test_duration_seconds_count{endpoint="validate"} 10000');
});
