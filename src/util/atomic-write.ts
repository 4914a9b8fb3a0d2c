import { closeSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Replaces a file atomically: write a temporary file beside it, fsync, rename over the original. A crash or
 * a full disk leaves the original intact, never a half-written manifest. The file mode is kept.
 */
export function writeFileAtomic(linkOrPath: string, content: string): void {
  // Through a symlink, the target is rewritten and the link kept (renaming onto the link would replace it).
  const path = realpathSync(linkOrPath);
  const mode = statSync(path).mode & 0o7777;
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temporary, 'wx', mode);
    writeSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temporary);
    } catch {
      // the temporary file was never created
    }
    throw error;
  }
}
