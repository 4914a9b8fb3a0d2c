import { readFileSync } from 'node:fs';
import { decodeInput, UndecodableInput } from '../manifests/decode.js';

/** What a command may touch of the process: injected so tests run commands in-process. */
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Standard input as text; throws UndecodableInput when its bytes are not UTF-8 text. */
  readStdin(): string;
  env: Record<string, string | undefined>;
}

/**
 * `rollsafe export | head`: a reader that closes the pipe early is not an error. Node reports it as an
 * 'error' event on stdout, which would otherwise crash the process with a stack trace; stop quietly, as
 * Unix tools do (exit status 141 is what a shell shows for SIGPIPE).
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(141);
    throw error;
  });
}

export function processIo(): Io {
  quietOnClosedPipe(process.stdout);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin: () => {
      // Bytes, decoded as a file's are: 'utf8' would turn invalid bytes into U+FFFD without a word.
      const decoded = decodeInput(readFileSync(0));
      if ('problem' in decoded) throw new UndecodableInput(decoded.problem, decoded.line);
      return decoded.text;
    },
    env: process.env,
  };
}

/** Thrown for bad usage; main() prints it and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string, fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got "${value}")`);
}
