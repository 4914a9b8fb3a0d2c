import { main } from '../../src/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output; `stdin` is what "-" reads. */
export async function runCli(argv: string[], options: { stdin?: string; tty?: boolean; env?: Record<string, string> } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text), isTTY: options.tty ?? false },
    stderr: { write: (text: string) => (stderr += text) },
    readStdin: () => options.stdin ?? '',
    env: options.env ?? {},
  });
  return { code, stdout, stderr };
}
