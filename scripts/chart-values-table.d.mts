/** Markdown rows for every key of values.yaml whose comment starts with `-- `. */
export function valuesTable(valuesYaml: string): string;
