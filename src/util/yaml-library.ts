import { createRequire } from 'node:module';

type YamlLibrary = typeof import('yaml');

let loaded: YamlLibrary | undefined;

/**
 * The `yaml` library, loaded on first use: importing it costs about 30 ms of every cold start, and a plain
 * audit of ordinary manifests never needs it (the fast reader reads them; `yaml` serves fix, policy files and
 * documents the fast reader leaves to it).
 */
export function yamlLibrary(): YamlLibrary {
  return (loaded ??= createRequire(import.meta.url)('yaml') as YamlLibrary);
}
