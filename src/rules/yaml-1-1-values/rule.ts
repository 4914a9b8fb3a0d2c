import { yaml11ValuesOf, type Yaml11Value } from '../../manifests/yaml-1-1-values.js';
import type { Plain } from '../../manifests/kubectl-scalars.js';
import type { PathSegment } from '../../util/object.js';
import type { RuleDescriptor, RuleFinding } from '../rule.js';

/** A path pattern: `*` stands for any key, `#` for any index. */
type Pattern = readonly string[];

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];

/**
 * Fields of a workload that hold strings, where a boolean or a number makes the apiserver refuse the object
 * ("json: cannot unmarshal bool into Go struct field ... of type string"): ObjectMeta.Labels and Annotations,
 * LabelSelector.MatchLabels and MatchExpressions[].Values, PodSpec.NodeSelector (map[string]string or
 * []string), Container.Name, Image, WorkingDir, Command and Args, EnvVar.Name and Value.
 */
const STRING_FIELDS: Pattern[] = [
  ...['', 'spec.template.', 'spec.volumeClaimTemplates.#.'].flatMap((prefix) => [`${prefix}metadata.labels.*`, `${prefix}metadata.annotations.*`]),
  'spec.selector.matchLabels.*',
  'spec.selector.matchExpressions.#.values.#',
  'spec.template.spec.nodeSelector.*',
  ...CONTAINER_LISTS.flatMap((list) =>
    ['name', 'image', 'workingDir', 'command.#', 'args.#', 'env.#.name', 'env.#.value'].map((field) => `spec.template.spec.${list}.#.${field}`),
  ),
].map((pattern) => pattern.split('.'));

function matches(path: readonly PathSegment[], pattern: Pattern): boolean {
  return path.length === pattern.length && pattern.every((step, index) => {
    const segment = path[index];
    return step === '*' ? typeof segment === 'string' : step === '#' ? typeof segment === 'number' : step === segment;
  });
}

/**
 * File modes: the API documents them as octal in YAML ("YAML accepts both octal and decimal values, JSON requires
 * decimal values for mode bits", SecretVolumeSource.DefaultMode, KeyToPath.Mode): `0644` means what its author
 * wrote, so it is no surprise to name.
 */
function isFileMode({ path, text, key }: Yaml11Value): boolean {
  const field = path[path.length - 1];
  return !key && (field === 'defaultMode' || field === 'mode') && /^0[0-7]+$/.test(text);
}

/** `spec.template.spec.containers[0].env[1].value`; keys with dots or spaces in brackets. */
function pathText(path: readonly PathSegment[]): string {
  return path
    .map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : /^[A-Za-z0-9_-]+$/.test(segment) ? `${index === 0 ? '' : '.'}${segment}` : `[${JSON.stringify(segment)}]`))
    .join('');
}

function describe(value: Plain): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (typeof value === 'number') return `the number ${value}`;
  return `the string "${value}"`;
}

/** The finding for one scalar: an error where the field holds strings, else an info (rollsafe judges kubectl's value). */
function finding(value: Yaml11Value): RuleFinding {
  const { path, text, key, line, yaml11, yaml12 } = value;
  if (key) {
    const parent = path.slice(0, -1);
    return {
      cap: 'info',
      message: `the key \`${text}\` ${parent.length > 0 ? `under ${pathText(parent)} ` : ''}(line ${line}) is read by kubectl as "${String(path[path.length - 1])}" (YAML 1.1), not "${text}" (YAML 1.2). Quote it ("${text}") to keep it as written.`,
    };
  }
  const written = `\`${pathText(path)}: ${text}\` (line ${line}) is read by kubectl as ${describe(yaml11)} (YAML 1.1), not ${describe(yaml12)} (YAML 1.2)`;
  if (typeof yaml11 !== 'string' && STRING_FIELDS.some((pattern) => matches(path, pattern))) {
    return { message: `${written}; the field holds a string, so the apiserver refuses the object. Quote it: "${text}".` };
  }
  const plainly = typeof yaml11 === 'string' ? `"${yaml11}"` : String(yaml11);
  return { cap: 'info', message: `${written}, and rollsafe judges the value kubectl sends: write ${plainly} to say so plainly.` };
}

export const yaml11Values: RuleDescriptor<'yaml-1-1-values', Record<never, never>> = {
  id: 'yaml-1-1-values',
  defaultSeverity: 'error',
  defaultMode: 'enforce',
  fixable: false,
  // Only a file has YAML to read: the webhook and the cluster see JSON.
  needsContext: true,
  judges: 'object',
  deniesUpdatesOf: [],
  parameters: {},
  docs: {
    summary: 'Plain YAML scalars that kubectl reads as YAML 1.1 (`yes`, `on`, `010`) are named, and refused where the field holds a string.',
    why: 'kubectl (sigs.k8s.io/yaml over go-yaml v2) reads YAML 1.1: `hostNetwork: yes` is true, `replicas: 010` is 8 and `terminationGracePeriodSeconds: 030` is 24, where a YAML 1.2 reader, an editor or a reviewer sees the string "yes", 10 and 30. A label or an env value written `on` becomes the boolean true, which the apiserver refuses.',
    checks:
      'Every unquoted scalar of a workload file that YAML 1.1 and YAML 1.2 read differently: `y`, `yes`, `on`, `n`, `no`, `off` (three capitalisations each), leading-zero octals (`010`), `0b101`, `0X1F`, `1_000`, `+.5`, and map keys among them. An info names each one (rollsafe judges the value kubectl sends); an error where the field holds strings (labels, annotations, selectors, node selectors, container names, images, commands, args, env), which the apiserver refuses. Octal file modes (`defaultMode: 0644`) are written that way on purpose and are not named. Not fixable: only the author knows which reading was meant. Files only.',
    readme: {
      checks:
        'Unquoted scalars that kubectl reads differently from YAML 1.2, found in workload files: `y`/`yes`/`on` and `n`/`no`/`off` (in three capitalisations) are booleans, `010` is the octal 8, `0b101`, `0X1F`, `1_000` and `+.5` are numbers, and float keys are written as Go writes them (go-yaml v2 `resolve`, sigs.k8s.io/yaml `convertToJSONableObject`; checked against kubectl itself). rollsafe reads every file that way, so every rule judges what the apiserver will store (`hostNetwork: yes` is host networking, and a DaemonSet is not offered a surge it cannot use), and this rule names each such scalar with its line (**info**). Where the field holds strings (labels, annotations, selectors, node selectors, container names, images, commands, args, env names and values), a boolean or a number makes the apiserver refuse the object: an error, fixed by quoting. Octal file modes (`defaultMode: 0644`), which the API documents as octal in YAML, are not named. Not fixable (`fix` keeps the bytes as written). Files only: the webhook and `--cluster` see JSON.',
      peers: {
        polaris: 'none',
        kubeScore: 'none',
        kubeLinter: 'none',
        kyverno: 'none',
        differs: 'Linters that read YAML 1.2 judge `hostNetwork: yes` as a string; yamllint\'s `truthy` flags every `yes` without reading it. rollsafe reads it as kubectl does and judges that value.',
      },
    },
  },
  check({ workload }) {
    return yaml11ValuesOf(workload.object).filter((value) => !isFileMode(value)).map(finding);
  },
};
