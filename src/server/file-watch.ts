import { unwatchFile, watchFile, type Stats } from 'node:fs';

/**
 * Calls `onChange` when any of the files changes. Polls with stat, which follows symlinks: Kubernetes swaps
 * the `..data` symlink of mounted Secrets and ConfigMaps, which inotify watchers of the old file never see.
 */
export function watchFiles(paths: string[], intervalMs: number, onChange: () => void): () => void {
  const listener = (current: Stats, previous: Stats) => {
    if (current.mtimeMs !== previous.mtimeMs || current.ino !== previous.ino || current.size !== previous.size) onChange();
  };
  for (const path of paths) watchFile(path, { interval: intervalMs, persistent: false }, listener);
  return () => {
    for (const path of paths) unwatchFile(path, listener);
  };
}
