/** Phrases several rules say, once for the engine and the native policies (see util/message.ts). */
import { message, type Message, type Piece } from '../util/message.js';

/** `container "app"` or `sidecar "proxy"` (kind: 'container' | 'sidecar'). */
export function named(kind: Piece, name: Piece): Message {
  return message`${kind} "${name}"`;
}

/** A field the object leaves to the API default. */
export function unsetDefaultsTo(fallback: Piece): Message {
  return message`unset, defaults to ${fallback}`;
}
