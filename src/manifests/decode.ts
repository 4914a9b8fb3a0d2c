import { isUtf8 } from 'node:buffer';

/**
 * A manifest's bytes as text, or why they are not UTF-8 text. Decoding never replaces a byte: Node's 'utf8'
 * decoder (and kubectl's, cli-runtime FileVisitor's BOMOverride(UTF8.NewDecoder())) turn invalid bytes into
 * U+FFFD, so a name would be judged, printed and written back as something the file does not say. Those
 * files are refused, naming the byte. A UTF-8 byte-order mark is kept: `fix` writes back every byte it does not
 * fix. UTF-16 (which kubectl reads when it has a byte-order mark) is refused with how to convert it, rather than
 * read as "document is not a mapping", or written back as UTF-8 by `fix`.
 */
export type Decoded = { text: string } | { problem: string; line?: number };

/** Thrown by a reader that can only return text (standard input through Io.readStdin): collect.ts reports it. */
export class UndecodableInput extends Error {
  override name = 'UndecodableInput';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

const CONVERT = 'rollsafe reads UTF-8: convert it first, e.g. `iconv -f UTF-16 -t UTF-8`';

/** UTF-32 and UTF-16 by their byte-order marks (UTF-32LE's starts like UTF-16LE's, so it is asked first). */
const BYTE_ORDER_MARKS: Array<[number[], string]> = [
  [[0x00, 0x00, 0xfe, 0xff], 'UTF-32 (big-endian, byte-order mark 00 00 FE FF)'],
  [[0xff, 0xfe, 0x00, 0x00], 'UTF-32 (little-endian, byte-order mark FF FE 00 00)'],
  [[0xfe, 0xff], 'UTF-16 (big-endian, byte-order mark FE FF)'],
  [[0xff, 0xfe], 'UTF-16 (little-endian, byte-order mark FF FE)'],
];

/** The 1-based line of a byte offset. */
function lineOf(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let at = bytes.indexOf(0x0a); at !== -1 && at < offset; at = bytes.indexOf(0x0a, at + 1)) line++;
  return line;
}

/**
 * UTF-16 without a byte-order mark: text in the ASCII range has a NUL in every other byte, at even offsets
 * (big-endian) or odd ones (little-endian). Judged on the first 1 KiB.
 */
function utf16Order(bytes: Uint8Array): 'big-endian' | 'little-endian' | undefined {
  const sample = Math.min(bytes.length, 1024);
  let even = 0;
  let odd = 0;
  for (let at = 0; at < sample; at++) if (bytes[at] === 0) at % 2 === 0 ? even++ : odd++;
  const pairs = sample / 2;
  // A few characters past U+00FF put a NUL on the other side too.
  if (pairs >= 1 && even >= pairs / 2 && odd <= pairs / 8) return 'big-endian';
  if (pairs >= 1 && odd >= pairs / 2 && even <= pairs / 8) return 'little-endian';
  return undefined;
}

/** The offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629), or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let at = 0; at < bytes.length; ) {
    const lead = bytes[at] as number;
    if (lead < 0x80) {
      at++;
      continue;
    }
    const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0) return at;
    // The second byte's range rules out overlong forms, surrogates and code points past U+10FFFF.
    const [low, high] = lead === 0xe0 ? [0xa0, 0xbf] : lead === 0xed ? [0x80, 0x9f] : lead === 0xf0 ? [0x90, 0xbf] : lead === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    for (let next = 1; next < length; next++) {
      const byte = bytes[at + next];
      if (byte === undefined || byte < (next === 1 ? low : 0x80) || byte > (next === 1 ? high : 0xbf)) return at;
    }
    at += length;
  }
  return -1;
}

/** The text of a manifest's (or a policy's) bytes, or the problem that keeps it from being read. */
export function decodeInput(bytes: Buffer): Decoded {
  for (const [mark, encoding] of BYTE_ORDER_MARKS) {
    if (mark.every((byte, index) => bytes[index] === byte)) return { problem: `is ${encoding}: ${CONVERT}` };
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    const order = utf16Order(bytes);
    if (order) return { problem: `looks like UTF-16 (${order}, without a byte-order mark: a NUL in every other byte): ${CONVERT}` };
    const line = lineOf(bytes, nul);
    // YAML allows no NUL (c-printable), nor JSON outside escapes: go-yaml refuses it ("control characters are not allowed").
    return { problem: `has a NUL byte at offset ${nul} (line ${line}): not a text file`, line };
  }
  if (!isUtf8(bytes)) {
    const offset = firstInvalidUtf8(bytes);
    const line = lineOf(bytes, offset);
    const byte = (bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    return {
      problem: `is not valid UTF-8: byte 0x${byte} at offset ${offset} (line ${line}); kubectl would read it as U+FFFD, so rollsafe refuses it: re-save the file as UTF-8 (e.g. \`iconv -f LATIN1 -t UTF-8\` for Latin-1)`,
      line,
    };
  }
  // 'utf8' keeps a leading byte-order mark (TextDecoder would drop it): read.ts knows it is no content.
  return { text: bytes.toString('utf8') };
}
