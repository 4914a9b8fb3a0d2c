import { fstatSync, readFileSync, writeSync } from 'node:fs';
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
function quietOnClosedPipe(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(141);
    throw error;
  });
  return stream;
}

/**
 * Standard output as the commands write it. To a pipe or a file (what CI, `| less` and a redirect give), the
 * text goes straight to the descriptor with write(2), as Node's own stream for it would (synchronously), but
 * without loading Node's stream machinery, a few milliseconds of every short run. A terminal, or a descriptor
 * that would block (a non-blocking pipe somebody handed over: EAGAIN), gets process.stdout, as before.
 */
function standardOutput(): Io['stdout'] {
  let direct = false;
  try {
    const stats = fstatSync(1);
    direct = stats.isFIFO() || stats.isFile() || stats.isSocket();
  } catch {
    // no such descriptor: Node's stream says what it can
  }
  if (!direct) return quietOnClosedPipe(process.stdout);
  let stream: NodeJS.WriteStream | undefined;
  return {
    isTTY: false,
    write(text: string): boolean {
      if (stream) return stream.write(text);
      const bytes = Buffer.from(text);
      for (let offset = 0; offset < bytes.length; ) {
        try {
          offset += writeSync(1, bytes, offset);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'EPIPE') process.exit(141);
          if (code !== 'EAGAIN') throw error;
          stream = quietOnClosedPipe(process.stdout);
          return stream.write(bytes.subarray(offset));
        }
      }
      return true;
    },
  };
}

export function processIo(): Io {
  return {
    stdout: standardOutput(),
    // Standard error as Node writes it, opened on first use: most runs write nothing there.
    stderr: {
      write: (text: string) => process.stderr.write(text),
      get isTTY() {
        return process.stderr.isTTY;
      },
    },
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
