import type { CST } from 'yaml';
import { yamlLibrary } from '../util/yaml-library.js';

/**
 * The deepest nesting of collections rollsafe reads. The `yaml` library composes documents recursively and
 * runs out of stack from about 840 nested flow sequences (fewer when called from deep in a program); the
 * values it builds are walked recursively again (rules, fixes, patches). Kubernetes objects nest a few dozen
 * levels; kubectl refuses more than 10000 (go-yaml's scanner: "exceeded max depth of 10000").
 */
export const MAX_NESTING = 500;

/**
 * At least the nesting depth of any collection in the text. A block collection starts past the indentation
 * (and the `- `, `? `, `: ` indicators) of its line, and each column holds at most two levels (a map, and a
 * sequence written at the column of its key); flow brackets add at most their running count (brackets in
 * strings and comments only make the bound larger).
 */
function depthBound(text: string): number {
  let widest = 0;
  for (let start = 0; start < text.length; ) {
    let at = start;
    for (let char = text.charCodeAt(at); char === 0x20 || char === 0x09 || char === 0x2d || char === 0x3f || char === 0x3a; char = text.charCodeAt(++at));
    if (at - start > widest) widest = at - start;
    const newline = text.indexOf('\n', at);
    start = newline === -1 ? text.length : newline + 1;
  }
  let flow = 0;
  let deepestFlow = 0;
  const brackets = /[[\]{}]/g;
  for (let match = brackets.exec(text); match; match = brackets.exec(text)) {
    const char = match[0];
    if (char === '[' || char === '{') deepestFlow = Math.max(deepestFlow, ++flow);
    else if (flow > 0) flow--;
  }
  return 2 * (widest + 1) + deepestFlow;
}

/** The collections of a token and their depth, walked with a stack of its own: the tokens may nest very deep. */
function deepestCollection(root: CST.Token): { depth: number; offset: number } | undefined {
  const stack: Array<[CST.Token, number]> = [[root, 0]];
  const { CST: cst } = yamlLibrary();
  for (let entry = stack.pop(); entry; entry = stack.pop()) {
    const [token, parentDepth] = entry;
    if (!cst.isCollection(token)) continue;
    const depth = parentDepth + 1;
    if (depth > MAX_NESTING) return { depth, offset: token.offset };
    for (const item of token.items) {
      if (item.key) stack.push([item.key, depth]);
      if (item.value) stack.push([item.value, depth]);
    }
  }
  return undefined;
}

/**
 * Where the first collection nested deeper than MAX_NESTING starts (its offset and the 1-based document it is
 * in), or undefined when none is. The text is read by the `yaml` library's token parser, which keeps its own
 * stack, and only when a quick bound says the text might nest that deep.
 */
export function tooDeeplyNested(text: string): { offset: number; document: number } | undefined {
  if (depthBound(text) <= MAX_NESTING) return undefined;
  let document = 0;
  for (const token of new (yamlLibrary().Parser)().parse(text)) {
    if (token.type !== 'document') continue;
    document++;
    const deep = token.value ? deepestCollection(token.value) : undefined;
    if (deep) return { offset: deep.offset, document };
  }
  return undefined;
}

/** The words of the refusal, the same for manifests and policies. */
export const TOO_DEEP = `is nested too deeply: more than ${MAX_NESTING} levels of maps and lists (the most rollsafe reads; manifests nest a few dozen); refused`;
