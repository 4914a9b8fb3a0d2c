// The values table of charts/rollsafe/README.md, generated from the `# --` comments of values.yaml (the
// convention helm-docs uses), so the README cannot drift: test/helm-chart.test.ts compares them.
// Run: npm run chart:readme (rewrites the table between the README's values markers).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

/** Markdown rows for every key whose comment starts with `-- `, in file order. */
export function valuesTable(valuesYaml) {
  const values = parseDocument(valuesYaml).toJS() ?? {};
  const rows = [];
  const path = []; // [indent, key] of the keys enclosing the current line
  let comment;
  for (const line of valuesYaml.split('\n')) {
    const described = /^\s*# -- (.*)$/.exec(line);
    if (described) {
      comment = described[1];
      continue;
    }
    const key = /^( *)([A-Za-z0-9_.-]+):(?:\s|$)/.exec(line);
    if (!key) {
      if (!/^\s*#/.test(line)) comment = line.trim() === '' ? comment : undefined;
      continue;
    }
    const indent = key[1].length;
    while (path.length > 0 && path[path.length - 1][0] >= indent) path.pop();
    path.push([indent, key[2]]);
    if (comment === undefined) continue;
    const keys = path.map(([, name]) => name);
    const value = keys.reduce((node, name) => node?.[name], values);
    const type = Array.isArray(value) ? 'list' : value === null ? 'null' : typeof value;
    const cell = (text) => text.replace(/\|/g, '\\|');
    rows.push(`| \`${keys.join('.')}\` | ${type} | \`${cell(JSON.stringify(value ?? null))}\` | ${cell(comment)} |`);
    comment = undefined;
  }
  return ['| Key | Type | Default | Description |', '|---|---|---|---|', ...rows].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const chart = new URL('../charts/rollsafe/', import.meta.url);
  const readmeUrl = new URL('README.md', chart);
  const readme = readFileSync(readmeUrl, 'utf8');
  const table = valuesTable(readFileSync(new URL('values.yaml', chart), 'utf8'));
  const updated = readme.replace(/(<!-- values:start -->\n)[\s\S]*?(<!-- values:end -->)/, `$1${table}\n$2`);
  if (updated === readme && !readme.includes(table)) throw new Error('charts/rollsafe/README.md has no <!-- values:start --> ... <!-- values:end --> markers');
  writeFileSync(readmeUrl, updated);
}
