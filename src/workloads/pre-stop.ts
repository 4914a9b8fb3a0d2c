import { kubernetesMinor } from '../policy/version.js';
import { asArray, asInteger, asRecord, asString, type JsonObject } from '../util/object.js';
import { firstCodePoints, oneLine } from '../util/text.js';

export type PreStopHook =
  | { kind: 'none' }
  | { kind: 'sleep'; seconds: number; form: 'native' | 'exec' }
  | { kind: 'custom'; description: string };

// These patterns are RE2 as well: `rollsafe export` (export/pre-stop-cel.ts) matches with their source in CEL.
export const SHELLS = ['sh', 'bash', 'ash', 'dash', 'zsh'];
/** The flag of `sh -c` (and `-ec`, `-xc`, ...). */
export const SHELL_COMMAND_FLAG = /^-[a-z]*c$/;
// Blanks as sh splits words (space, tab, newline): a no-break space is part of a word to the shell.
export const SLEEP_AT_START = /^[ \t\n]*(?:exec[ \t\n]+)?(?:\/(?:usr\/)?bin\/)?sleep[ \t\n]+([0-9.]+[smh]?)[ \t\n]*(?:$|&&|;|\|\||\n)/;
/** A GNU/busybox `sleep` duration: a number and an optional unit. */
export const SLEEP_DURATION = /^([0-9]+(?:\.[0-9]+)?)([smh]?)$/;
/** What in a preStop command or path makes its container exit. */
export const STOPS_CONTAINER = /\b(?:kill|pkill|killall)\b|quitquitquit|\/(?:shutdown|kill|exit)\b/;

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The longest sleep rollsafe counts, 2^31 - 1 s (68 years): longer ones outlast any grace period the same, and
 * the arithmetic stays exact (and within CEL's int64 in `rollsafe export`).
 */
export const MAX_SLEEP_SECONDS = 2147483647;

/** terminationGracePeriodSeconds when unset (SetDefaults_PodSpec); it includes the preStop time. */
export const DEFAULT_GRACE_SECONDS = 30;

/** Seconds of a GNU/busybox `sleep` argument ("10", "10s", "1.5", "2m"); undefined if not a plain duration. */
export function sleepSeconds(argument: string): number | undefined {
  const match = SLEEP_DURATION.exec(argument);
  if (!match) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600 }[match[2] as '' | 's' | 'm' | 'h'];
  return Math.min(Number(match[1]) * unit, MAX_SLEEP_SECONDS);
}

/** Recognises `sleep N`, `busybox sleep N`, and `sh -c "sleep N && ..."` (the sleep must come first). */
function execSleepSeconds(command: string[]): number | undefined {
  const [program, ...args] = command;
  if (program === undefined) return undefined;
  const name = basename(program);
  if (name === 'sleep' && args.length === 1) return sleepSeconds(args[0] as string);
  if (name === 'busybox' && args[0] === 'sleep' && args.length === 2) return sleepSeconds(args[1] as string);
  if (SHELLS.includes(name) && args.length === 2 && SHELL_COMMAND_FLAG.test(args[0] as string)) {
    const match = SLEEP_AT_START.exec(args[1] as string);
    return match ? sleepSeconds(match[1] as string) : undefined;
  }
  return undefined;
}

function describeHandler(preStop: JsonObject): string {
  const exec = asRecord(preStop['exec']);
  if (exec) return firstCodePoints(oneLine(`exec ${asArray(exec['command']).map(String).join(' ')}`), 80);
  if (asRecord(preStop['httpGet'])) return oneLine(`httpGet ${asString(asRecord(preStop['httpGet'])?.['path']) ?? '/'}`);
  return Object.keys(preStop).join(', ');
}

/**
 * The signal the kubelet sends once preStop is done: lifecycle.stopSignal where set (KEP-4960: alpha 1.33,
 * needs spec.os.name), else the image's STOPSIGNAL, which rollsafe cannot see; SIGTERM is the usual one.
 * The preStop hook still runs first, so a sleep protects either way; rollsafe never adds a stop signal.
 */
export function stopSignal(container: JsonObject): string {
  return asString(asRecord(container['lifecycle'])?.['stopSignal']) ?? 'SIGTERM';
}

/** What a container's preStop hook does before the stop signal. */
export function readPreStop(container: JsonObject): PreStopHook {
  const preStop = asRecord(asRecord(container['lifecycle'])?.['preStop']);
  if (!preStop || Object.keys(preStop).length === 0) return { kind: 'none' };
  const sleep = asRecord(preStop['sleep']);
  const nativeSeconds = asInteger(sleep?.['seconds']);
  if (nativeSeconds !== undefined) return { kind: 'sleep', seconds: Math.min(nativeSeconds, MAX_SLEEP_SECONDS), form: 'native' };
  const command = asArray(asRecord(preStop['exec'])?.['command']);
  if (command.length > 0 && command.every((part): part is string => typeof part === 'string')) {
    const seconds = execSleepSeconds(command);
    if (seconds !== undefined) return { kind: 'sleep', seconds, form: 'exec' };
  }
  return { kind: 'custom', description: describeHandler(preStop) };
}

let lastVersion = { text: '', native: false };

/** True when the target Kubernetes version has the native sleep action on by default (1.30+). */
export function supportsNativeSleep(kubernetesVersion: string): boolean {
  // Asked once per container per request, nearly always for the same policy version.
  if (kubernetesVersion !== lastVersion.text) {
    const minor = kubernetesMinor(kubernetesVersion);
    lastVersion = { text: kubernetesVersion, native: minor >= 30 };
  }
  return lastVersion.native;
}

/**
 * True when the target version accepts `sleep.seconds: 0` (PodLifecycleSleepActionAllowZero: beta and on by
 * default in 1.33, GA in 1.34; validateSleepAction wants seconds > 0 without it).
 */
export function allowsZeroSleep(kubernetesVersion: string): boolean {
  return kubernetesMinor(kubernetesVersion) >= 33;
}

/**
 * What in a preStop hook makes its container exit (a kill, a pkill, Envoy's /quitquitquit, a /shutdown
 * endpoint), quoted for the message; undefined when nothing does. Sidecar-era workarounds: with native
 * sidecars they cut the app off mid-drain.
 */
export function preStopStopsContainer(container: JsonObject): string | undefined {
  const preStop = asRecord(asRecord(container['lifecycle'])?.['preStop']);
  if (!preStop) return undefined;
  const command = asArray(asRecord(preStop['exec'])?.['command']).filter((part): part is string => typeof part === 'string').join(' ');
  const path = asString(asRecord(preStop['httpGet'])?.['path']) ?? '';
  if (STOPS_CONTAINER.test(command)) return firstCodePoints(oneLine(`exec ${command}`), 80);
  if (STOPS_CONTAINER.test(path)) return firstCodePoints(oneLine(`httpGet ${path}`), 80);
  return undefined;
}
