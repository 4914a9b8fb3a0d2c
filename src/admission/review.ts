import { Ajv } from 'ajv';
import secureJson from 'secure-json-parse';
import { asRecord, asString, type JsonObject } from '../util/object.js';
import { withoutManagedFields } from './review-json.js';

export const REVIEW_API_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;
export type ReviewApiVersion = (typeof REVIEW_API_VERSIONS)[number];

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  subResource?: string;
  object?: JsonObject | null;
  oldObject?: JsonObject | null;
  dryRun?: boolean;
  /** Who sent the write; only the username is read (see byKubernetesController). */
  userInfo?: { username?: string };
}

export interface AdmissionReview {
  apiVersion: ReviewApiVersion;
  kind: 'AdmissionReview';
  request: AdmissionRequest;
}

/** Why a body is no AdmissionReview we can answer; still answered as one (controller-runtime does the same). */
export class ReviewError extends Error {
  constructor(
    readonly statusCode: 400 | 413,
    message: string,
    readonly uid: string | undefined,
    readonly apiVersion: ReviewApiVersion = 'admission.k8s.io/v1',
  ) {
    super(message);
  }
}

const DNS_LABEL_OR_EMPTY = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const reviewSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'request'],
  properties: {
    apiVersion: { enum: [...REVIEW_API_VERSIONS] },
    kind: { const: 'AdmissionReview' },
    request: {
      type: 'object',
      required: ['uid', 'kind', 'operation'],
      properties: {
        uid: { type: 'string', minLength: 1, maxLength: 256 },
        // Bounded as Kubernetes bounds them, so nothing a request brings outlives it unbounded (metric
        // labels, cache keys): a group is a DNS-1123 subdomain, a version and (lowercased) a kind DNS-1035
        // labels (apiextensions validation.go, validateNamesSpec), a namespace a DNS-1123 label
        // (apimachinery validation ValidateNamespaceName), a name at most 253 characters.
        kind: {
          type: 'object',
          required: ['group', 'version', 'kind'],
          properties: {
            group: { type: 'string', maxLength: 253, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$' },
            version: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]*$' },
            kind: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[A-Za-z][A-Za-z0-9]*$' },
          },
        },
        name: { type: 'string', maxLength: 253 },
        namespace: { type: 'string', maxLength: 63, pattern: DNS_LABEL_OR_EMPTY },
        operation: { enum: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] },
        subResource: { type: 'string', maxLength: 63 },
        object: { type: ['object', 'null'] },
        oldObject: { type: ['object', 'null'] },
        dryRun: { type: 'boolean' },
        userInfo: { type: 'object', properties: { username: { type: 'string' } } },
      },
    },
  },
} as const;

const validateReview = new Ajv({ allErrors: false, strict: true }).compile(reviewSchema);

/** JSON.parse, refusing `__proto__` and `constructor.prototype` keys. */
function parseGuarded(text: string): unknown {
  return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
}

/**
 * JSON.parse messages quote the input; only the position may reach a response or a log. managedFields are
 * left out (no rule reads them); a body with a syntax error is parsed whole so the position is the sender's.
 */
function parseJson(body: string): unknown {
  try {
    try {
      return parseGuarded(withoutManagedFields(body));
    } catch (error) {
      if (error instanceof SyntaxError) return parseGuarded(body);
      throw error;
    }
  } catch (error) {
    const message = (error as Error).message;
    if (/prototype|constructor/i.test(message) && !/JSON/.test(message)) {
      throw new ReviewError(400, 'request body contains a forbidden "__proto__" or "constructor.prototype" key', sniffUid(body));
    }
    const position = /position (\d+)/.exec(message)?.[1];
    throw new ReviewError(400, `request body is not valid JSON${position ? ` (at byte ${position})` : ''}`, sniffUid(body));
  }
}

/** Best effort for error replies: the uid of a body too broken to parse fully. */
function sniffUid(body: string): string | undefined {
  const match = /"uid"\s*:\s*"([0-9A-Za-z-]{1,64})"/.exec(body.slice(0, 4096));
  return match?.[1];
}

/** Parses and checks a request body; throws ReviewError with what is wrong (never quoting the body). */
export function parseReview(body: string | Buffer | undefined, contentType: string | undefined): AdmissionReview {
  const text = body === undefined ? '' : body.toString();
  if (!/^application\/json\s*(;|$)/i.test(contentType ?? '')) {
    throw new ReviewError(400, `content-type must be application/json (got ${contentType ? JSON.stringify(contentType.slice(0, 60)) : 'none'})`, sniffUid(text));
  }
  if (text.trim() === '') throw new ReviewError(400, 'request body is empty; expected an AdmissionReview', undefined);
  const data = parseJson(text);
  const record = asRecord(data);
  const request = asRecord(record?.['request']);
  const uid = asString(request?.['uid']) || undefined;
  const apiVersion = (REVIEW_API_VERSIONS as readonly unknown[]).includes(record?.['apiVersion'])
    ? (record?.['apiVersion'] as ReviewApiVersion)
    : 'admission.k8s.io/v1';
  if (!validateReview(data)) {
    const [error] = validateReview.errors ?? [];
    const where = error?.instancePath ? error.instancePath.slice(1).split('/').join('.') : 'body';
    const detail = error?.keyword === 'required' ? `missing "${String((error.params as { missingProperty?: string }).missingProperty)}"` : error?.message ?? 'invalid';
    throw new ReviewError(400, `not an AdmissionReview: ${where}: ${detail}`, uid, apiVersion);
  }
  const review = data as unknown as AdmissionReview;
  const { operation, object } = review.request;
  if ((operation === 'CREATE' || operation === 'UPDATE') && (object === undefined || object === null)) {
    throw new ReviewError(400, `not an AdmissionReview: request.object is required for ${operation}`, uid, apiVersion);
  }
  // Without request.namespace the object's own namespace is used (see handleAdmission): bounded the same way.
  const objectNamespace = asRecord(object?.['metadata'])?.['namespace'];
  if (!review.request.namespace && objectNamespace !== undefined && (typeof objectNamespace !== 'string' || (objectNamespace !== '' && (objectNamespace.length > 63 || !DNS_LABEL.test(objectNamespace))))) {
    throw new ReviewError(400, 'not an AdmissionReview: request.object.metadata.namespace must be a DNS-1123 label (at most 63 characters)', uid, apiVersion);
  }
  return review;
}
