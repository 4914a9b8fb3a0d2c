import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Endpoint } from '../admission/handle.js';
import { admissionRoutes, HANDLERS, type AdmissionRouteOptions } from './admission-route.js';
import { TLS_OPTIONS, type KeyPair } from './tls-reloader.js';

/** The apiserver may send up to ~3 MiB objects plus oldObject; stay well above 7 MiB. */
export const BODY_LIMIT = 8 * 1024 * 1024;

export interface AppOptions extends Omit<AdmissionRouteOptions, 'bodyLimit'> {
  /** Certificate and key: the app serves HTTPS (HTTP/2 with HTTP/1.1 fallback). Without them, plain HTTP (inject-only tests). */
  tls?: KeyPair;
  /** Ready when the certificate and policy are loaded and we are not shutting down. */
  isReady: () => boolean;
  /** True once shutdown began: answers ask HTTP/1.1 clients to reconnect (to a replica that stays). */
  isDraining?: () => boolean;
  bodyLimit?: number;
  /** The apiserver drops idle connections after 90 s: keep ours open longer so it is always the one closing. */
  keepAliveTimeoutMs?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

const ADMISSION_PATH = /^\/(validate|mutate)(\/|$)/;

function createServer(options: AppOptions, bodyLimit: number): FastifyInstance {
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const keepAliveTimeout = options.keepAliveTimeoutMs ?? 95_000;
  // One log line per admission decision is ours to write; Fastify's per-request lines would double it.
  const common = { loggerInstance: options.logger, logController: new LogController({ disableRequestLogging: true }), bodyLimit, requestTimeout, return503OnClosing: false };
  // noDelay: http.Server turns Nagle's algorithm off by default, the HTTP/2 server (our HTTP/1.1 fallback
  // included) does not; with it on, a small write can wait for the client's delayed ACK, up to 40 ms.
  const app = options.tls
    ? Fastify({ ...common, http2: true, https: { allowHTTP1: true, noDelay: true, handshakeTimeout: 10_000, ...TLS_OPTIONS, ...options.tls }, http2SessionTimeout: keepAliveTimeout })
    : Fastify(common);
  // Fastify sets these only on HTTP/1 servers; the HTTP/1.1 fallback of the HTTP/2 server reads them too.
  // Node checks header and request timeouts every connectionsCheckingInterval (30 s by default), read
  // once at listen: check every second so a slow client is cut off close to its deadline.
  Object.assign(app.server, { keepAliveTimeout, headersTimeout: options.headersTimeoutMs ?? 10_000, requestTimeout, connectionsCheckingInterval: 1000 });
  return app as unknown as FastifyInstance;
}

/**
 * Builds the admission server; never listens (the caller does, tests use inject() or a real socket).
 * Every answer on /validate and /mutate is an AdmissionReview, including errors.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? BODY_LIMIT;
  const app = createServer(options, bodyLimit);
  const { isDraining } = options;
  if (isDraining) {
    // `Connection: close` moves keep-alive clients off this replica one response at a time, instead of their
    // next request racing the final close of an idle connection.
    app.addHook('onSend', (request, response, payload, done) => {
      if (isDraining() && request.raw.httpVersionMajor === 1) response.header('connection', 'close');
      done(null, payload);
    });
  }
  // Bodies stay text: parseReview checks them and names what is wrong in an AdmissionReview.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));

  const admission = admissionRoutes({ ...options, bodyLimit });
  for (const endpoint of Object.keys(HANDLERS) as Endpoint[]) {
    app.post(`/${endpoint}`, admission.route(endpoint));
    app.post(`/${endpoint}/:mode`, admission.route(endpoint));
    // Namespace labels the entry's namespaceSelector picked (admission/namespace-facts.ts).
    app.post(`/${endpoint}/ns/:fact`, admission.route(endpoint));
    app.post(`/${endpoint}/:mode/ns/:fact`, admission.route(endpoint));
  }
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, response) => {
    if (options.isReady()) return { status: 'ok' };
    response.code(503);
    return { status: 'not ready' };
  });
  app.setNotFoundHandler(async (request, response) => {
    response.code(404);
    return { error: `no route ${request.method} ${request.url.split('?')[0]?.slice(0, 100)}` };
  });
  // Errors raised before our handlers (body too large, unreadable body): on /validate and /mutate still an AdmissionReview.
  app.setErrorHandler(async (error: { code?: string; statusCode?: number; message?: string }, request, response) => {
    const endpoint = ADMISSION_PATH.exec(request.url)?.[1] as Endpoint | undefined;
    if (endpoint) return admission.refuse(endpoint, error, response);
    options.logger.warn({ url: request.url.slice(0, 100), code: error.code }, 'request failed');
    const status = error.statusCode ?? 500;
    response.code(status);
    return { error: status < 500 ? error.message : 'internal error' };
  });
  return app;
}
