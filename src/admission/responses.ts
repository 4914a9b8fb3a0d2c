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

// Warnings are set only when there are some (kubectl prints nothing for an absent list); assigned rather than
// spread, which is the cheaper way to build these objects on every request.

export function allowed(uid: string, warnings: string[] = []): AdmissionResponse {
  const response: AdmissionResponse = { uid, allowed: true };
  if (warnings.length > 0) response.warnings = warnings;
  return response;
}

export function denied(uid: string, message: string, warnings: string[] = []): AdmissionResponse {
  const response: AdmissionResponse = { uid, allowed: false, status: { code: 403, message } };
  if (warnings.length > 0) response.warnings = warnings;
  return response;
}

export function patched(uid: string, patch: readonly object[], warnings: string[] = []): AdmissionResponse {
  const response: AdmissionResponse = { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') };
  if (warnings.length > 0) response.warnings = warnings;
  return response;
}

/** A request we could not judge (bad body, or a rule failure): answered, never a bare 4xx/5xx. */
export function errored(uid: string, code: number, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code, message } };
}

export function reply(apiVersion: ReviewApiVersion, response: AdmissionResponse): ReviewReply {
  return { apiVersion, kind: 'AdmissionReview', response };
}
