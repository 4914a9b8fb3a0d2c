/**
 * Waiting for exported admission policies to take effect. The apiserver compiles each policy (seconds for
 * ours) when it is created and again in its policy source, which recompiles every changed policy in one
 * goroutine per kind (generic policySource.refreshPolicies), behind whatever another test file applied
 * first. In a full run on 2 cores export-rollouts' set took 41 s to take effect after a 73 s apply; a CI
 * machine went past a minute. So one deadline covers the whole set, and the subtests that judge with the
 * policies say once that they never loaded instead of failing hundreds of comparisons.
 */
import type { Test } from 'tap';

/** How long a whole set of policies may take to take effect once applied. */
export const POLICY_LOADING_SECONDS = 240;

/** Seconds left until a deadline (at least 1, so a late check is still tried once). */
export function secondsLeft(deadline: number): number {
  return Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
}

/** Tracks whether the policies loaded; `test` defines a subtest that needs them. */
export function policyLoading(parent: Test): { loaded: () => void; test: (name: string, body: (t: Test) => Promise<void>) => void } {
  let loaded = false;
  return {
    loaded: () => {
      loaded = true;
    },
    test: (name, body) => {
      parent.test(name, async (t) => {
        if (!loaded) {
          t.fail('the policies did not take effect (see the subtest that applies them): nothing here can be judged');
          return;
        }
        await body(t);
      });
    },
  };
}
