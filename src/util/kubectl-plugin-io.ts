/**
 * `kubectl rollsafe ...`: the CLI as a kubectl plugin. kubectl finds `kubectl-rollsafe` on the PATH and runs it
 * with the words after `rollsafe`, unchanged; it parses none of them and passes nothing else (a $KUBECONFIG
 * stays in the environment, where the cluster client reads it as kubectl does). The CLI already takes
 * kubectl's --kubeconfig, --context, -n/--namespace and -A, and without -n audits or plans the namespace of the
 * kubeconfig's context, as kubectl does; so the plugin is main() itself, with only the program's name changed
 * in the help and usage text, where a kubectl user reads what to type next.
 */
import type { Io } from '../commands/io.js';

/**
 * A command written at the start of a line, as the help text writes them: the usage header
 * (`rollsafe 0.1.0: ...`), `Usage: rollsafe audit ...`, an indented `  rollsafe fix ...`, a usage error
 * (`rollsafe audit: ...`), and `See rollsafe --help.`. Not `rollsafe:` (a message's own prefix, kept).
 */
const COMMAND_LINE = /^(\s*|Usage: )rollsafe(?= )/;
const SEE_HELP = /\bSee rollsafe --help/g;
/** The flags a usage line continues with on the next line, aligned under the command's first flag. */
const CONTINUATION = /^ +\[/;
const KUBECTL = 'kubectl ';

function asKubectlPlugin(text: string): string {
  let renamed = false;
  return text
    .split('\n')
    .map((line) => {
      if (COMMAND_LINE.test(line)) {
        renamed = true;
        return line.replace(COMMAND_LINE, `$1${KUBECTL}rollsafe`);
      }
      if (renamed && CONTINUATION.test(line)) return `${' '.repeat(KUBECTL.length)}${line}`;
      renamed = false;
      return line;
    })
    .join('\n')
    .replace(SEE_HELP, `See ${KUBECTL}rollsafe --help`);
}

/** Whether main() answers with help on stdout: the same arguments it answers that way. */
function asksForHelp(argv: string[]): boolean {
  const [name, ...args] = argv;
  return name === undefined || name === '--help' || name === '-h' || name === 'help' || args.includes('--help') || args.includes('-h');
}

/**
 * The plugin's Io: renames the program in the help (stdout, only when help is all it prints: a report or
 * exported YAML is never rewritten) and in what goes to stderr (usage errors, and the usage after an unknown
 * command).
 */
export function kubectlPluginIo(io: Io, argv: string[]): Io {
  const help = asksForHelp(argv);
  return {
    ...io,
    stdout: {
      write: (text: string) => io.stdout.write(help ? asKubectlPlugin(text) : text),
      get isTTY() {
        return io.stdout.isTTY;
      },
    },
    stderr: {
      write: (text: string) => io.stderr.write(asKubectlPlugin(text)),
      get isTTY() {
        return io.stderr.isTTY;
      },
    },
  };
}
