/** The minor of a policy's `kubernetesVersion` ("1.33", "v1.35.4" → 33, 35); 0 when it says nothing readable. */
export function kubernetesMinor(kubernetesVersion: string): number {
  return Number(/^v?1\.(\d+)/.exec(kubernetesVersion)?.[1] ?? 0);
}
