import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { watchFiles } from './file-watch.js';
import type { Metrics } from './metrics.js';

export const TLS_OPTIONS = { minVersion: 'TLSv1.2' } as const satisfies SecureContextOptions;

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

/** Reads and checks a certificate and its key; throws when they do not load or do not match. */
export function loadKeyPair(certFile: string, keyFile: string): KeyPair {
  const pair = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  createSecureContext({ ...TLS_OPTIONS, ...pair });
  return pair;
}

/**
 * Swaps the server's certificate when the files change (cert-manager rotation): new handshakes get the new
 * pair, open connections keep theirs. A half-written pair (cert updated, key not yet) fails and is retried on
 * the next change.
 */
export function watchKeyPair(
  server: { setSecureContext(options: SecureContextOptions): void },
  files: { cert: string; key: string },
  intervalMs: number,
  logger: Logger,
  metrics: Metrics,
): () => void {
  return watchFiles([files.cert, files.key], intervalMs, () => {
    try {
      server.setSecureContext({ ...TLS_OPTIONS, ...loadKeyPair(files.cert, files.key) });
      metrics.certificateReloads.inc({ result: 'ok' });
      logger.info({ event: 'certificate-reload', result: 'ok' }, 'certificate reloaded');
    } catch (error) {
      metrics.certificateReloads.inc({ result: 'failed' });
      logger.warn({ event: 'certificate-reload', result: 'failed', reason: (error as Error).message }, 'certificate reload failed; keeping the previous one');
    }
  });
}
