import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startServer } from '../server/start.js';
import { UsageError, type Io } from './io.js';

const DEV_DIR = fileURLToPath(new URL('../../certs/dev/', import.meta.url));
const GENERATE = fileURLToPath(new URL('../../certs/generate.sh', import.meta.url));

function integer(value: string | undefined, flag: string, fallback: number, min = 0, max = 65535): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max} (got "${value}")`);
  return number;
}

/** Development certificates for 127.0.0.1/localhost, generated once into certs/dev (ignored by git). */
function devCertificates(io: Io): { cert: string; key: string; ca: string } {
  const files = { cert: `${DEV_DIR}tls.crt`, key: `${DEV_DIR}tls.key`, ca: `${DEV_DIR}ca.crt` };
  if (!existsSync(files.cert) || !existsSync(files.key)) {
    io.stderr.write('rollsafe: generating development certificates in certs/dev/\n');
    execFileSync('bash', [GENERATE, '--dev', '--out', DEV_DIR, '--force'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return files;
}

/** `rollsafe serve`: runs until SIGTERM/SIGINT, then shuts down gracefully and returns 0. */
export async function serveCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      policy: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'metrics-port': { type: 'string' },
      'shutdown-delay': { type: 'string' },
      'watch-interval': { type: 'string' },
      'log-level': { type: 'string' },
      'dev-certs': { type: 'boolean' },
    },
  });
  let certFile = values['tls-cert'];
  let keyFile = values['tls-key'];
  let caFile: string | undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (certFile === undefined) {
    if (!values['dev-certs']) throw new UsageError('serve needs --tls-cert and --tls-key (or --dev-certs for local development)');
    const dev = devCertificates(io);
    ({ cert: certFile, key: keyFile, ca: caFile } = dev);
  }
  const level = values['log-level'] ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) throw new UsageError(`--log-level must be a pino level (got "${level}")`);
  const logger = pino({ level, base: { service: 'rollsafe' } });
  const host = values.host ?? '0.0.0.0';
  const server = await startServer({
    host,
    port: integer(values.port, '--port', 8443),
    metricsPort: integer(values['metrics-port'], '--metrics-port', 9090, -1),
    certFile,
    keyFile: keyFile as string,
    ...(values.policy !== undefined ? { policyFile: values.policy } : {}),
    shutdownDelayMs: integer(values['shutdown-delay'], '--shutdown-delay', 5, 0, 3600) * 1000,
    watchIntervalMs: integer(values['watch-interval'], '--watch-interval', 2000, 50, 600_000),
    logger,
  });
  io.stderr.write(
    `rollsafe: serving ${server.url} (POST /validate, /mutate; GET /healthz, /readyz)` +
      `${server.metricsUrl ? `, metrics ${server.metricsUrl}` : ''}\n` +
      `Try: curl --cacert ${caFile ?? 'CA.crt'} -H 'content-type: application/json' ` +
      `--data @test/fixtures/admission/deploy-create-noprobes--deployment-create.json ${server.url}/validate\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => void server.shutdown().then(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
