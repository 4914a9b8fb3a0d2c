import { defaultPolicy, loadPolicyFile } from '../policy/load.js';
import type { Policy } from '../policy/types.js';

export function policyFromFlag(path: string | undefined): Policy {
  return path === undefined ? defaultPolicy() : loadPolicyFile(path);
}
