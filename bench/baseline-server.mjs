// Baseline (A) for npm run bench: the same stack and transport settings as `rollsafe serve` (Fastify on HTTP/2
// with HTTP/1.1, TLS 1.2+, Nagle off, 8 MiB bodies, 95 s keep-alive, one pino line per request at info), but the handler
// only parses the AdmissionReview and returns a fixed `allowed` answer: the practical limit of this stack.
import { readFileSync } from 'node:fs';
import Fastify, { LogController } from 'fastify';
import { pino } from 'pino';

const [certFile, keyFile] = process.argv.slice(2);
const bodyLimit = 8 * 1024 * 1024;
const app = Fastify({
  loggerInstance: pino({ level: 'info', base: { service: 'baseline' } }),
  logController: new LogController({ disableRequestLogging: true }),
  bodyLimit,
  http2: true,
  https: { allowHTTP1: true, noDelay: true, minVersion: 'TLSv1.2', handshakeTimeout: 10_000, cert: readFileSync(certFile), key: readFileSync(keyFile) },
  requestTimeout: 30_000,
  http2SessionTimeout: 95_000,
});
Object.assign(app.server, { keepAliveTimeout: 95_000, headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1000 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));
const answer = async (request) => {
  const review = JSON.parse(request.body);
  request.log.info({ uid: review.request.uid, decision: 'allowed' }, 'admission');
  return { apiVersion: review.apiVersion, kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true } };
};
app.post('/validate', answer);
app.post('/mutate', answer);
app.get('/readyz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: 0 });
process.stderr.write(`baseline: serving https://127.0.0.1:${app.server.address().port}\n`);
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
