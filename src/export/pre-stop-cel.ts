/**
 * CEL for workloads/pre-stop.ts: what each container's preStop hook does, computed once per container index
 * into variables (see workload-cel.ts).
 */
import { MAX_SLEEP_SECONDS, SHELL_COMMAND_FLAG, SHELLS, SLEEP_AT_START as SLEEP_AT_START_RE, SLEEP_DURATION, STOPS_CONTAINER as STOPS_RE } from '../workloads/pre-stop.js';
import { bind, literal } from './cel.js';

// pre-stop.ts's patterns, whose source RE2 reads as JavaScript does.
const SLEEP_AT_START = SLEEP_AT_START_RE.source;
const DURATION = SLEEP_DURATION.source;
const STOPS = STOPS_RE.source;

const C = 'variables.all[i]';
const PRE_STOP = `${C}.?lifecycle.?preStop`;
const COMMAND = `${PRE_STOP}.?exec.?command.orValue([])`;
const base = (path: string) => `string(${path}).substring(string(${path}).lastIndexOf('/') + 1)`;
/** oneLine, then the first 80 code points (pre-stop.ts describeHandler, preStopStopsContainer). */
const cut = (text: string) => bind('cut', `(${text}).replace('\\r', ' ').replace('\\n', ' ').replace('\\t', ' ')`, 'size(cut) > 80 ? cut.substring(0, 80) : cut');

/** The argument of an exec sleep (`sleep N`, `busybox sleep N`, `sh -c "sleep N ..."`), or ''. */
const EXEC_SLEEP_ARGUMENT =
  `size(${COMMAND}) == 2 && ${base(`${COMMAND}[0]`)} == 'sleep' ? string(${COMMAND}[1])` +
  ` : size(${COMMAND}) == 3 && ${base(`${COMMAND}[0]`)} == 'busybox' && ${COMMAND}[1] == 'sleep' ? string(${COMMAND}[2])` +
  ` : size(${COMMAND}) == 3 && ${base(`${COMMAND}[0]`)} in ${JSON.stringify(SHELLS)} && string(${COMMAND}[1]).matches(${literal(SHELL_COMMAND_FLAG.source)}) && string(${COMMAND}[2]).matches(${literal(SLEEP_AT_START)})` +
  ` ? string(${COMMAND}[2]).find(${literal(SLEEP_AT_START)}).find('[0-9.]+[smh]?') : ''`;

const ARGUMENT = 'variables.execSleepArgument[i]';
const UNIT = `(${ARGUMENT}.endsWith('h') ? 3600.0 : ${ARGUMENT}.endsWith('m') ? 60.0 : 1.0)`;

export const PRE_STOP_VARIABLES = [
  { name: 'hooked', expression: `lists.range(size(variables.all)).map(i, ${PRE_STOP}.hasValue() && size(${PRE_STOP}.value()) > 0)` },
  { name: 'nativeSleep', expression: `lists.range(size(variables.all)).map(i, ${PRE_STOP}.?sleep.?seconds.hasValue())` },
  { name: 'execSleepArgument', expression: `lists.range(size(variables.all)).map(i, ${EXEC_SLEEP_ARGUMENT})` },
  {
    // readPreStop: the sleep's seconds (10, 10s, 1.5, 2m, 1h), or -1 when the hook is no sleep.
    name: 'sleepSeconds',
    expression:
      `lists.range(size(variables.all)).map(i, variables.nativeSleep[i] ? double(${C}.lifecycle.preStop.sleep.seconds)` +
      ` : ${ARGUMENT}.matches(${literal(DURATION)}) ? double(${ARGUMENT}.find('^[0-9]+(?:[.][0-9]+)?')) * ${UNIT} : -1.0)` +
      // MAX_SLEEP_SECONDS, as the engine counts: and int() of a longer one would overflow.
      `.map(s, s > ${MAX_SLEEP_SECONDS}.0 ? ${MAX_SLEEP_SECONDS}.0 : s)`,
  },
];

/** Container i's preStop is a sleep (readPreStop kind 'sleep'). */
export const SLEEPS = 'variables.sleepSeconds[i] >= 0.0';
export const SECONDS = 'variables.sleepSeconds[i]';

/** Math.ceil of a non-negative double, as an int. */
export function ceil(value: string): string {
  return `(int(${value}) + (double(int(${value})) < ${value} ? 1 : 0))`;
}

/** A number as JavaScript prints it: 10, 1.5. */
export function jsNumber(value: string): string {
  return `(double(int(${value})) == ${value} ? string(int(${value})) : string(${value}))`;
}

/** describeHandler: what container i's custom hook does, for the message. */
export const DESCRIBE_HOOK =
  `(has(${C}.lifecycle.preStop.exec) ? ${cut(`'exec ' + ${COMMAND}.map(part, string(part)).join(' ')`)}` +
  ` : has(${C}.lifecycle.preStop.httpGet) ? ('httpGet ' + ${C}.lifecycle.preStop.httpGet.?path.orValue('/')).replace('\\r', ' ').replace('\\n', ' ').replace('\\t', ' ') : ${C}.lifecycle.preStop.map(k, k).join(', '))`;

export const STOP_SIGNAL = `${C}.?lifecycle.?stopSignal.orValue('SIGTERM')`;

const JOINED = `${COMMAND}.filter(part, type(part) == string).join(' ')`;
const PATH = `${PRE_STOP}.?httpGet.?path.orValue('')`;
/** preStopStopsContainer: the exec or httpGet that makes container i exit, or '' when none does. */
export const STOPS_CONTAINER = bind(
  'cmd',
  JOINED,
  bind('path', PATH, `cmd.matches(${literal(STOPS)}) ? ${cut("'exec ' + cmd")} : path.matches(${literal(STOPS)}) ? ${cut("'httpGet ' + path")} : ''`),
);
