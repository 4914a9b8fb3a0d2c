import type { ReviewApiVersion } from './review.js';

/** The `response` of an AdmissionReview; the builders below are the only way we make one. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string };
  patch?: string;
  patchType?: 'JSONPatch';
  warnings?: string[];
}

export interface ReviewReply {
  apiVersion: ReviewApiVersion;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export function allowed(uid: string, warnings: string[] = []): AdmissionResponse {
  return { uid, allowed: true, ...(warnings.length > 0 ? { warnings } : {}) };
}

export function denied(uid: string, message: string, warnings: string[] = []): AdmissionResponse {
  return { uid, allowed: false, status: { code: 403, message }, ...(warnings.length > 0 ? { warnings } : {}) };
}

export function patched(uid: string, patch: readonly object[], warnings: string[] = []): AdmissionResponse {
  return {
    uid,
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** A request we could not judge (bad body, or a rule failure): answered, never a bare 4xx/5xx. */
export function errored(uid: string, code: number, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code, message } };
}

export function reply(apiVersion: ReviewApiVersion, response: AdmissionResponse): ReviewReply {
  return { apiVersion, kind: 'AdmissionReview', response };
}
