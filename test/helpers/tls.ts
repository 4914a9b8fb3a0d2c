import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_DIR } from './fixtures.js';

export interface TestCertificates {
  dir: string;
  ca: Buffer;
  cert: string;
  key: string;
}

/** A fresh CA and localhost certificate made by certs/generate.sh (openssl) in a temporary directory. */
export function makeCertificates(dir = mkdtempSync(join(tmpdir(), 'rollsafe-certs-')), extra: string[] = []): TestCertificates {
  execFileSync('bash', [join(TEST_DIR, '..', 'certs', 'generate.sh'), '--dev', '--out', dir, '--force', ...extra], { stdio: 'ignore' });
  return { dir, ca: readFileSync(join(dir, 'ca.crt')), cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
}
