import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { handleAdmission, type AdmissionOutcome, type Endpoint } from '../admission/handle.js';
import { allowed, errored, reply, type ReviewReply } from '../admission/responses.js';
import { parseReview, ReviewError, type AdmissionRequest, type AdmissionReview } from '../admission/review.js';
import { MODES, type Mode, type Policy } from '../policy/types.js';
import { asRecord, asString } from '../util/object.js';
import { WORKLOAD_KINDS } from '../workloads/workload.js';
import { inBatches } from './batch.js';
import { namespaceLabelsOf } from '../admission/namespace-facts.js';
import { BoundedLabels, OTHER } from './bounded-labels.js';
import type { Metrics } from './metrics.js';

/**
 * One endpoint's decision, as controller-runtime's admission.Handler: a request in, an answer out. The
 * outcome carries the AdmissionResponse (made by the builders in responses.ts) and what the log line needs.
 */
export type Handler = (request: AdmissionRequest, policy: Policy, mode: Mode | undefined, namespaceLabels: Record<string, string> | undefined) => AdmissionOutcome;

export const HANDLERS: Record<Endpoint, Handler> = {
  validate: (request, policy, mode, labels) => handleAdmission(request, 'validate', policy, mode, labels),
  mutate: (request, policy, mode, labels) => handleAdmission(request, 'mutate', policy, mode, labels),
};

export interface AdmissionRouteOptions {
  policy: { readonly current: Policy };
  logger: Logger;
  metrics: Metrics;
  bodyLimit: number;
  /** Distinct namespace label values of rollsafe_findings_total (default MAX_NAMESPACE_LABELS). */
  maxNamespaceLabels?: number;
}

/** Distinct namespaces counted by name in rollsafe_findings_total; findings in further ones count as "other". */
export const MAX_NAMESPACE_LABELS = 2000;

/** One admission call, queued for its batch; `started` is taken before queueing, so durations include the wait. */
interface Call {
  endpoint: Endpoint;
  request: FastifyRequest<{ Params: { mode?: string; fact?: string } }>;
  response: FastifyReply;
  started: bigint;
}

const UNCHECKED = 'rollsafe could not check this object (internal error); allowed unchecked, see the webhook logs';

/** The kinds we judge by name, every other kind as "other": a closed set of label values. */
function kindLabel(kind: string): string {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind) ? kind : OTHER;
}

function objectName({ name, object, oldObject }: AdmissionRequest): string {
  const metadata = asRecord(object?.['metadata'] ?? oldObject?.['metadata']);
  return name || asString(metadata?.['name']) || asString(metadata?.['generateName']) || '';
}

function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * The wrapper around the handlers: parses the body, answers every failure as an AdmissionReview (400/413 with a
 * message, never a stack), counts and logs each request. Logs carry names, uids, decisions and rule ids, never
 * object contents. Request values become metric labels only through closed or capped sets.
 */
export function admissionRoutes(options: AdmissionRouteOptions) {
  const { logger, metrics } = options;
  const namespaces = new BoundedLabels(options.maxNamespaceLabels ?? MAX_NAMESPACE_LABELS);

  function decide(endpoint: Endpoint, request: AdmissionRequest, mode: Mode | undefined, labels: Record<string, string> | undefined): AdmissionOutcome {
    try {
      return HANDLERS[endpoint](request, options.policy.current, mode, labels);
    } catch (error) {
      // Our own failure never blocks (see failedOpen in handle.ts); the error's type only: its message may quote the object.
      logger.error({ uid: request.uid, endpoint, err: { type: (error as Error).name } }, 'admission handler failed');
      metrics.evaluationErrors.inc({ endpoint, rule: 'handler' });
      return { response: allowed(request.uid, [UNCHECKED]), decision: 'error', patchedRules: [] };
    }
  }

  function record(endpoint: Endpoint, { request }: AdmissionReview, outcome: AdmissionOutcome, started: bigint): void {
    const { evaluation } = outcome;
    if (evaluation && evaluation.errors.length > 0) {
      for (const { rule } of evaluation.errors) metrics.evaluationErrors.inc({ endpoint, rule });
      logger.error({ uid: request.uid, endpoint, failedRules: evaluation.errors.map((error) => error.rule) }, 'rule failed; request allowed unchecked');
    }
    const seconds = secondsSince(started);
    metrics.requests.inc({ endpoint, kind: kindLabel(request.kind.kind), operation: request.operation, decision: outcome.decision });
    metrics.duration.observe({ endpoint }, seconds);
    const findings = evaluation?.findings.filter((finding) => !finding.exempt) ?? [];
    const namespace = evaluation?.namespace ?? request.namespace ?? '';
    // Findings are counted once, by the validating webhook; the mutating one counts its patches.
    if (endpoint === 'validate' && findings.length > 0) {
      const namespaceLabel = namespaces.of(namespace);
      for (const finding of findings) metrics.findings.inc({ rule: finding.rule, namespace: namespaceLabel, mode: finding.mode });
    }
    for (const rule of outcome.patchedRules) metrics.patches.inc({ rule });
    logger.info(
      {
        uid: request.uid,
        endpoint,
        kind: request.kind.kind,
        namespace,
        name: objectName(request),
        operation: request.operation,
        // Only a CREATE or a change of the pod template can be denied (see startsRollout).
        ...(outcome.startsRollout !== undefined ? { startsRollout: outcome.startsRollout } : {}),
        dryRun: request.dryRun === true,
        decision: outcome.decision,
        rules: [...new Set(findings.map((finding) => finding.rule))],
        ...(outcome.patchedRules.length > 0 ? { patched: outcome.patchedRules } : {}),
        durationMs: Math.round(seconds * 1e6) / 1e3,
      },
      'admission',
    );
  }

  /** A request we cannot judge, from parseReview or from Fastify (body too large, unreadable): still an AdmissionReview. */
  function refuse(endpoint: Endpoint, error: unknown, response: FastifyReply, started?: bigint): ReviewReply {
    const known = error instanceof ReviewError;
    const tooLarge = (error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE';
    const status = known ? error.statusCode : tooLarge ? 413 : 400;
    const message = known ? error.message : tooLarge ? `request body is larger than the ${options.bodyLimit} byte limit` : 'malformed request';
    const uid = known ? (error.uid ?? '') : '';
    metrics.requests.inc({ endpoint, kind: '', operation: '', decision: 'invalid' });
    if (started !== undefined) metrics.duration.observe({ endpoint }, secondsSince(started));
    logger.warn({ uid, endpoint, decision: 'invalid', status, reason: message }, 'invalid admission request');
    response.code(status);
    return reply(known ? error.apiVersion : 'admission.k8s.io/v1', errored(uid, status, message));
  }

  /** Parses, decides, counts and logs one request; never throws (a failure is an answer too). */
  function answer({ endpoint, request, response, started }: Call): ReviewReply {
    const mode = request.params.mode;
    let review: AdmissionReview;
    let labels: Record<string, string> | undefined;
    try {
      if (mode !== undefined && !(MODES as readonly string[]).includes(mode)) {
        throw new ReviewError(400, `unknown mode "${mode.slice(0, 20)}" in the path; expected one of ${MODES.join(', ')}`, undefined);
      }
      const fact = namespaceLabelsOf(request.params.fact);
      if (fact instanceof Error) throw new ReviewError(400, fact.message, undefined);
      labels = fact;
      review = parseReview(request.body as string | undefined, request.headers['content-type']);
    } catch (error) {
      return refuse(endpoint, error, response, started);
    }
    const outcome = decide(endpoint, review.request, mode as Mode | undefined, labels);
    record(endpoint, review, outcome, started);
    return reply(review.apiVersion, outcome.response);
  }

  // Requests read in one turn of the event loop are answered together, back to back (see inBatches for why).
  const answerInBatches = inBatches(answer);

  /** The route of one endpoint, with or without a namespace mode in the path (/validate/warn). */
  function route(endpoint: Endpoint) {
    return (request: FastifyRequest<{ Params: { mode?: string; fact?: string } }>, response: FastifyReply) =>
      answerInBatches({ endpoint, request, response, started: process.hrtime.bigint() });
  }

  return { route, refuse };
}
