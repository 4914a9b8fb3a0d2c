/**
 * Metric label values that come from requests: each distinct value is a time series kept until the process
 * ends, so a client sending many distinct values would grow memory and /metrics without end. The first
 * `max` distinct values are kept as they are; later ones are counted under `other`.
 */
export class BoundedLabels {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return OTHER;
    this.seen.add(value);
    return value;
  }
}

export const OTHER = 'other';
