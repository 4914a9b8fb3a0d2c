import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { handleAdmission, type AdmissionOutcome, type Endpoint } from '../admission/handle.js';
import { allowed, errored, reply, type ReviewReply } from '../admission/responses.js';
import { parseReview, ReviewError, type AdmissionReview } from '../admission/review.js';
import { MODES, type Mode, type Policy } from '../policy/types.js';
import { asRecord, asString } from '../util/object.js';
import { WORKLOAD_KINDS } from '../workloads/workload.js';
import { inBatches } from './batch.js';
import { BoundedLabels, OTHER } from './bounded-labels.js';
import type { Metrics } from './metrics.js';
import { TLS_OPTIONS, type KeyPair } from './tls-reloader.js';

/** The apiserver may send up to ~3 MiB objects plus oldObject; stay well above 7 MiB. */
export const BODY_LIMIT = 8 * 1024 * 1024;

export interface AppOptions {
  policy: { readonly current: Policy };
  logger: Logger;
  metrics: Metrics;
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
  /** Distinct namespace label values of rollsafe_findings_total (default MAX_NAMESPACE_LABELS). */
  maxNamespaceLabels?: number;
}

/** What an admission route answers: an AdmissionReview, serialized in the batch, with its HTTP status. */
interface Answer {
  status: number;
  json: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function answer(status: number, review: ReviewReply): Answer {
  return { status, json: JSON.stringify(review) };
}

function send(response: FastifyReply, decided: Answer): FastifyReply {
  return response.code(decided.status).type(JSON_TYPE).send(decided.json);
}

const ADMISSION_PATH = /^\/(validate|mutate)(\/|$)/;

/** Distinct namespaces counted by name in rollsafe_findings_total; findings in further ones count as "other". */
export const MAX_NAMESPACE_LABELS = 2000;

/** The kinds we judge by name, every other kind as "other": a closed set of label values. */
function kindLabel(kind: string): string {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind) ? kind : OTHER;
}

function objectName(review: AdmissionReview): string {
  const metadata = asRecord(review.request.object?.['metadata'] ?? review.request.oldObject?.['metadata']);
  return review.request.name || asString(metadata?.['name']) || asString(metadata?.['generateName']) || '';
}

/**
 * Builds the admission server; never listens (the caller does, tests use inject() or a real socket).
 * Every answer on /validate and /mutate is an AdmissionReview, including errors.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const { logger, metrics } = options;
  const bodyLimit = options.bodyLimit ?? BODY_LIMIT;
  // One log line per admission decision is ours to write; Fastify's per-request lines would double it.
  const logController = new LogController({ disableRequestLogging: true });
  const app = (
    options.tls
      ? Fastify({ loggerInstance: logger, logController, bodyLimit, http2: true, https: { allowHTTP1: true, noDelay: true, handshakeTimeout: 10_000, ...TLS_OPTIONS, ...options.tls }, requestTimeout: options.requestTimeoutMs ?? 30_000, http2SessionTimeout: options.keepAliveTimeoutMs ?? 95_000, return503OnClosing: false })
      : Fastify({ loggerInstance: logger, logController, bodyLimit, requestTimeout: options.requestTimeoutMs ?? 30_000, return503OnClosing: false })
  ) as unknown as FastifyInstance;
  // noDelay (above): answers are written after the batch, apart from the request's own I/O; with Nagle's
  // algorithm on, such a small write waits for the client's delayed ACK, up to 40 ms. http.Server disables
  // Nagle by default, the HTTP/2 server (our HTTP/1.1 fallback included) does not.
  // Fastify sets these only on HTTP/1 servers; the HTTP/1.1 fallback of the HTTP/2 server reads them too.
  // Node checks header and request timeouts every connectionsCheckingInterval (30 s by default), read
  // once at listen: check every second so a slow client is cut off close to its deadline.
  Object.assign(app.server, {
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 95_000,
    headersTimeout: options.headersTimeoutMs ?? 10_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    connectionsCheckingInterval: 1000,
  });

  // While draining, `Connection: close` moves keep-alive clients off this replica one response at a time,
  // instead of their next request racing the final close of an idle connection.
  const isDraining = options.isDraining;
  if (isDraining) {
    // Callback style: an async hook would cost a promise on every response.
    app.addHook('onSend', (request, response, payload, done) => {
      if (isDraining() && request.raw.httpVersionMajor === 1) response.header('connection', 'close');
      done(null, payload);
    });
  }

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));

  /** One admission call as the route hands it over; decided later, in a batch. */
  interface AdmissionCall {
    endpoint: Endpoint;
    modeParam: string | undefined;
    body: unknown;
    contentType: string | undefined;
    started: bigint;
  }

  /** Parses, judges, counts and logs one request; never throws (a failure is an answer too). */
  function decide({ endpoint, modeParam, body, contentType, started }: AdmissionCall): Answer {
    let review: AdmissionReview;
    try {
      if (modeParam !== undefined && !(MODES as readonly string[]).includes(modeParam)) {
        throw new ReviewError(400, `unknown mode "${modeParam.slice(0, 20)}" in the path; expected one of ${MODES.join(', ')}`, undefined);
      }
      review = parseReview(body as string | undefined, contentType);
    } catch (error) {
      return invalid(endpoint, error, started);
    }
    const { request: admission } = review;
    let outcome: AdmissionOutcome;
    try {
      outcome = handleAdmission(admission, endpoint, options.policy.current, modeParam as Mode | undefined);
    } catch (error) {
      // Our own failure never blocks (see failedOpen in handle.ts); the error's type only: its message may quote the object.
      logger.error({ uid: admission.uid, endpoint, err: { type: (error as Error).name } }, 'admission handler failed');
      metrics.evaluationErrors.inc({ endpoint, rule: 'handler' });
      outcome = { response: allowed(admission.uid, ['rollsafe could not check this object (internal error); allowed unchecked, see the webhook logs']), decision: 'error', patchedRules: [] };
    }
    if (outcome.evaluation && outcome.evaluation.errors.length > 0) {
      for (const { rule } of outcome.evaluation.errors) metrics.evaluationErrors.inc({ endpoint, rule });
      logger.error({ uid: admission.uid, endpoint, failedRules: outcome.evaluation.errors.map((error) => error.rule) }, 'rule failed; request allowed unchecked');
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const findings = outcome.evaluation?.findings.filter((finding) => !finding.exempt) ?? [];
    metrics.requests.inc({ endpoint, kind: kindLabel(admission.kind.kind), operation: admission.operation, decision: outcome.decision });
    metrics.duration.observe({ endpoint }, seconds);
    const namespace = outcome.evaluation?.namespace ?? admission.namespace ?? '';
    // Findings are counted once, by the validating webhook; the mutating one counts its patches.
    if (endpoint === 'validate') {
      const namespaceLabel = findings.length > 0 ? namespaces.of(namespace) : '';
      for (const finding of findings) metrics.findings.inc({ rule: finding.rule, namespace: namespaceLabel, mode: finding.mode });
    }
    for (const rule of outcome.patchedRules) metrics.patches.inc({ rule });
    logger.info(
      {
        uid: admission.uid,
        endpoint,
        kind: admission.kind.kind,
        namespace,
        name: objectName(review),
        operation: admission.operation,
        // Only a CREATE or a change of the pod template can be denied (see startsRollout).
        ...(outcome.startsRollout !== undefined ? { startsRollout: outcome.startsRollout } : {}),
        dryRun: admission.dryRun === true,
        decision: outcome.decision,
        rules: [...new Set(findings.map((finding) => finding.rule))],
        ...(outcome.patchedRules.length > 0 ? { patched: outcome.patchedRules } : {}),
        durationMs: Math.round(seconds * 1e6) / 1e3,
      },
      'admission',
    );
    return answer(200, reply(review.apiVersion, outcome.response));
  }

  // Label values from requests are bounded (see BoundedLabels): kinds come from a closed set.
  const namespaces = new BoundedLabels(options.maxNamespaceLabels ?? MAX_NAMESPACE_LABELS);

  // Requests read in one turn of the event loop are decided together (see inBatches for why).
  const decideInBatches = inBatches(decide);

  const admit = (endpoint: Endpoint) => async (request: FastifyRequest<{ Params: { mode?: string } }>, response: FastifyReply) => {
    const decided = await decideInBatches({
      endpoint,
      modeParam: request.params.mode,
      body: request.body,
      contentType: request.headers['content-type'],
      started: process.hrtime.bigint(),
    });
    return send(response, decided);
  };

  function invalid(endpoint: Endpoint | undefined, error: unknown, started?: bigint): Answer {
    const known = error instanceof ReviewError;
    const tooLarge = (error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE';
    const status = known ? error.statusCode : tooLarge ? 413 : 400;
    const message = known
      ? error.message
      : tooLarge
        ? `request body is larger than the ${bodyLimit} byte limit`
        : 'malformed request';
    const uid = known ? (error.uid ?? '') : '';
    if (endpoint) {
      metrics.requests.inc({ endpoint, kind: '', operation: '', decision: 'invalid' });
      if (started !== undefined) metrics.duration.observe({ endpoint }, Number(process.hrtime.bigint() - started) / 1e9);
    }
    logger.warn({ uid, endpoint, decision: 'invalid', status, reason: message }, 'invalid admission request');
    return answer(status, reply(known ? error.apiVersion : 'admission.k8s.io/v1', errored(uid, status, message)));
  }

  for (const endpoint of ['validate', 'mutate'] as const) {
    app.post(`/${endpoint}`, admit(endpoint));
    app.post(`/${endpoint}/:mode`, admit(endpoint));
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
  // Errors raised before our handler (body too large, unreadable body): still an AdmissionReview, never a stack.
  app.setErrorHandler(async (error, request, response) => {
    const match = ADMISSION_PATH.exec(request.url);
    if (match) return send(response, invalid(match[1] as Endpoint, error));
    logger.warn({ url: request.url.slice(0, 100), code: (error as { code?: string }).code }, 'request failed');
    response.code((error as { statusCode?: number }).statusCode ?? 500);
    return { error: (error as { statusCode?: number }).statusCode && (error as { statusCode?: number }).statusCode! < 500 ? (error as Error).message : 'internal error' };
  });
  return app;
}
