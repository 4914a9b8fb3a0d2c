import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeInput, UndecodableInput } from './decode.js';
import { MAX_INPUT_BYTES, parseManifest, type InputError, type ParsedFile } from './read.js';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;
const SKIPPED_DIRS = new Set(['node_modules', '.git']);

export interface CollectedInputs {
  files: ParsedFile[];
  errors: InputError[];
  /** Directories passed over (hidden or symlinked), for a note on standard error (see skippedNote). */
  skippedDirectories: Array<{ path: string; why: 'hidden' | 'symlinked' }>;
}

/** The line a command prints for a directory the walk passed over. */
export function skippedNote({ path, why }: { path: string; why: 'hidden' | 'symlinked' }): string {
  return `rollsafe: skipped ${why} directory ${path} (name it to include it)\n`;
}

/**
 * Manifest files under a directory, recursively and sorted; symlinked directories are not followed. Hidden
 * directories (.github, .cache) are passed over but listed, so nothing is skipped unsaid; naming one audits it.
 */
function walk(directory: string, found: string[], skipped: CollectedInputs['skippedDirectories']): void {
  const entries = readdirSync(directory, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      if (SKIPPED_DIRS.has(entry.name)) continue;
      if (entry.name.startsWith('.')) skipped.push({ path, why: 'hidden' });
      else walk(path, found, skipped);
    } else if (entry.isSymbolicLink() && isDirectory(path)) {
      // Not followed (no loops, no reading outside the tree), but said: naming it audits it.
      skipped.push({ path, why: 'symlinked' });
    } else if (MANIFEST_FILE.test(entry.name) && (entry.isFile() || entry.isSymbolicLink())) {
      found.push(path);
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'a directory, not a file';
  if (code === 'ELOOP') return 'a symbolic link loop';
  return code ?? (error as Error).message;
}

/** Standard input, which Io.readStdin decodes (processIo refuses bytes that are not UTF-8, as for a file). */
function readStdin(stdinText: () => string, result: CollectedInputs): void {
  let text: string;
  try {
    text = stdinText();
  } catch (error) {
    if (!(error instanceof UndecodableInput)) throw error;
    result.errors.push({ file: '-', ...(error.line !== undefined ? { line: error.line } : {}), message: `standard input ${error.message}` });
    return;
  }
  result.files.push(parseManifest(text, '-'));
}

/**
 * Reads every path (a file, a directory, or "-" for the given stdin text) into parsed files. Unreadable
 * inputs become errors naming the path; the others are still read.
 */
export function collectInputs(paths: string[], stdinText: () => string): CollectedInputs {
  const result: CollectedInputs = { files: [], errors: [], skippedDirectories: [] };
  // A file named twice (or a directory and a file inside it) is one input: read once, its objects counted once.
  const seen = new Set<string>();
  let stdinRead = false;
  for (const path of paths) {
    if (path === '-') {
      if (!stdinRead) readStdin(stdinText, result);
      stdinRead = true;
      continue;
    }
    let files: string[];
    try {
      const directory = statSync(path).isDirectory();
      files = directory ? (() => { const found: string[] = []; walk(path, found, result.skippedDirectories); return found; })() : [path];
      // A typo'd or empty directory must not pass CI silently.
      if (directory && files.length === 0) result.errors.push({ file: path, message: 'no manifest files (*.yaml, *.yml, *.json) in this directory' });
    } catch (error) {
      result.errors.push({ file: path, message: `cannot read: ${reason(error)}` });
      continue;
    }
    for (const file of files) {
      try {
        // The C library's realpath: one call, where Node's own walks the path a component at a time.
        const real = realpathSync.native(file);
        if (seen.has(real)) continue;
        seen.add(real);
        if (statSync(file).size > MAX_INPUT_BYTES) {
          result.errors.push({ file, message: `larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB; refused` });
          continue;
        }
        const decoded = decodeInput(readFileSync(file));
        if ('problem' in decoded) result.errors.push({ file, ...(decoded.line !== undefined ? { line: decoded.line } : {}), message: decoded.problem });
        else result.files.push(parseManifest(decoded.text, file));
      } catch (error) {
        result.errors.push({ file, message: `cannot read: ${reason(error)}` });
      }
    }
  }
  return result;
}

/**
 * An input holding no object at all (an empty file, or an empty pipe from a generator that failed: `helm
 * template ... | rollsafe audit -`) could not be judged, so it is no pass: an input error, unless the caller
 * accepts it (--allow-empty). Inputs that already failed to read say so themselves.
 */
export function emptyInputError(inputs: CollectedInputs, paths: readonly string[]): InputError | undefined {
  if (inputs.errors.length > 0 || inputs.files.some((file) => file.objects.length > 0 || file.errors.length > 0)) return undefined;
  return {
    file: paths.length === 1 ? (paths[0] === '-' ? '-' : (paths[0] as string)) : paths.join(', '),
    message: 'no Kubernetes object in the input (empty): nothing was judged, so this is no pass; --allow-empty accepts an empty input',
  };
}
