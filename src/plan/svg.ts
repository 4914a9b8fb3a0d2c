/**
 * `rollsafe plan -o svg`: pods over time, one panel per workload. Old, new and terminating pods are stacked
 * areas (what the nodes hold); the Ready pods are a line (what serves). Plain SVG 1.1 with its own styles, so
 * it opens in any browser and embeds in a README.
 */
import type { RolloutStep } from './deployment-rollout.js';
import type { WorkloadPlan } from './plan.js';

const WIDTH = 720;
const PANEL = 260;
const MARGIN = { left: 56, right: 150, top: 40, bottom: 44 };
const COLORS = { old: '#7f9cc7', new: '#5bb56a', terminating: '#f0a04b', ready: '#1d2733' };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About five round tick values from 0 to max. */
function ticks(max: number): number[] {
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1)));
  const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough) ?? power * 10;
  const values: number[] = [];
  for (let value = 0; value <= max + 1e-9; value += step) values.push(Math.round(value * 1000) / 1000);
  return values;
}

/** A stepped band between two stacked levels, as a polygon. */
function band(steps: RolloutStep[], end: number, lower: (step: RolloutStep) => number, upper: (step: RolloutStep) => number, x: (t: number) => number, y: (n: number) => number): string {
  const top: string[] = [];
  const bottom: string[] = [];
  steps.forEach((step, index) => {
    const from = x(step.at);
    const to = x(steps[index + 1]?.at ?? end);
    top.push(`${from},${y(upper(step))}`, `${to},${y(upper(step))}`);
    bottom.unshift(`${to},${y(lower(step))}`, `${from},${y(lower(step))}`);
  });
  return [...top, ...bottom].join(' ');
}

function panel(plan: WorkloadPlan, offset: number): string {
  const title = `${plan.kind} ${plan.namespace ? `${plan.namespace}/` : ''}${plan.name}`;
  const parts = [`<g transform="translate(0,${offset})">`, `<text class="title" x="${MARGIN.left}" y="22">${escape(title)}</text>`];
  const rollout = plan.rollout;
  if (!rollout || rollout.steps.length === 0) {
    parts.push(`<text class="note" x="${MARGIN.left}" y="60">rollout not predicted: ${escape(plan.why ?? '')}</text>`, '</g>');
    return parts.join('\n');
  }
  const { steps } = rollout;
  // The last step is when the rollout ends; show a little of the steady state after it.
  const end = Math.max(rollout.estimatedSeconds * 1.08, 1);
  const top = Math.max(rollout.peakPods, 1);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL - MARGIN.top - MARGIN.bottom;
  const x = (t: number) => Math.round((MARGIN.left + (t / end) * plotWidth) * 10) / 10;
  const y = (n: number) => Math.round((MARGIN.top + plotHeight - (n / top) * plotHeight) * 10) / 10;
  for (const value of ticks(top)) {
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(value)}" y2="${y(value)}"/>`);
    parts.push(`<text class="tick" x="${MARGIN.left - 8}" y="${y(value) + 4}" text-anchor="end">${value}</text>`);
  }
  for (const value of ticks(end)) {
    parts.push(`<text class="tick" x="${x(value)}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle">${value}s</text>`);
  }
  parts.push(`<polygon fill="${COLORS.old}" points="${band(steps, end, () => 0, (s) => s.old, x, y)}"/>`);
  parts.push(`<polygon fill="${COLORS.new}" points="${band(steps, end, (s) => s.old, (s) => s.old + s.new, x, y)}"/>`);
  parts.push(`<polygon fill="${COLORS.terminating}" points="${band(steps, end, (s) => s.old + s.new, (s) => s.old + s.new + s.terminating, x, y)}"/>`);
  const ready = steps.flatMap((step, index) => [`${x(step.at)},${y(step.ready)}`, `${x(steps[index + 1]?.at ?? end)},${y(step.ready)}`]).join(' ');
  parts.push(`<polyline class="ready" stroke="${COLORS.ready}" points="${ready}"/>`);
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}"/>`);
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight}"/>`);
  parts.push(`<text class="label" x="${MARGIN.left + plotWidth / 2}" y="${PANEL - 6}" text-anchor="middle">seconds after the template change</text>`);
  parts.push(`<text class="label" transform="translate(16,${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">pods</text>`);
  const legend: Array<[string, string, boolean]> = [
    [`old (${rollout.replicas} before)`, COLORS.old, false],
    ['new', COLORS.new, false],
    ['terminating', COLORS.terminating, false],
    [`Ready (at least ${rollout.minReady})`, COLORS.ready, true],
  ];
  legend.forEach(([name, color, line], index) => {
    const ly = MARGIN.top + 8 + index * 20;
    const lx = WIDTH - MARGIN.right + 16;
    parts.push(
      line
        ? `<line x1="${lx}" x2="${lx + 14}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"/>`
        : `<rect x="${lx}" y="${ly - 6}" width="14" height="12" fill="${color}"/>`,
      `<text class="legend" x="${lx + 20}" y="${ly + 4}">${escape(name)}</text>`,
    );
  });
  const summary = [`peak ${rollout.peakPods} pods at once`, `done in ~${rollout.estimatedSeconds}s`, ...(rollout.exceedsProgressDeadline ? ['ProgressDeadlineExceeded'] : [])];
  summary.forEach((line, index) => {
    parts.push(`<text class="legend${index === 2 ? ' alert' : ''}" x="${WIDTH - MARGIN.right + 16}" y="${MARGIN.top + 28 + (legend.length + index) * 18}">${escape(line)}</text>`);
  });
  parts.push('</g>');
  return parts.join('\n');
}

export function planSvg(plans: WorkloadPlan[]): string {
  const height = Math.max(plans.length, 1) * PANEL;
  const style = [
    'text { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; fill: #1d2733; }',
    '.title { font-size: 15px; font-weight: 600; }',
    '.tick, .legend { font-size: 11px; }',
    '.label, .note { font-size: 12px; fill: #4a5563; }',
    '.grid { stroke: #e3e7ec; stroke-width: 1; }',
    '.axis { stroke: #4a5563; stroke-width: 1; }',
    '.ready { fill: none; stroke-width: 2.5; }',
    '.alert { fill: #b3261e; font-weight: 600; }',
  ].join('\n');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">\n` +
    `<style>\n${style}\n</style>\n<rect width="100%" height="100%" fill="#ffffff"/>\n` +
    `${plans.map((plan, index) => panel(plan, index * PANEL)).join('\n')}\n</svg>\n`
  );
}
