/**
 * Namespace globs (`*` any run of characters, `?` one character) matched without backtracking: the pattern
 * is split at `*` into literal pieces (where `?` matches any one character); the first piece must start the
 * name, the last must end it, and the ones between are found left to right, each at its earliest place.
 * Taking the earliest place is always right for `*`-separated pieces (a later place leaves less room for the
 * rest), so a name is scanned at most once per piece: O(name × pattern), never exponential.
 */
export type GlobMatcher = (name: string) => boolean;

function pieceAt(name: string, piece: string, at: number): boolean {
  if (at < 0 || at + piece.length > name.length) return false;
  for (let i = 0; i < piece.length; i++) {
    const expected = piece.charCodeAt(i);
    if (expected !== 63 /* ? */ && expected !== name.charCodeAt(at + i)) return false;
  }
  return true;
}

function find(name: string, piece: string, from: number, until: number): number {
  for (let at = from; at + piece.length <= until; at++) if (pieceAt(name, piece, at)) return at;
  return -1;
}

export function globMatcher(glob: string): GlobMatcher {
  const pieces = glob.split('*');
  if (pieces.length === 1) return (name) => name.length === glob.length && pieceAt(name, glob, 0);
  const first = pieces[0] ?? '';
  const last = pieces[pieces.length - 1] ?? '';
  const middle = pieces.slice(1, -1).filter((piece) => piece !== '');
  const fixed = first.length + last.length;
  return (name) => {
    if (name.length < fixed || !pieceAt(name, first, 0) || !pieceAt(name, last, name.length - last.length)) return false;
    let at = first.length;
    const end = name.length - last.length;
    for (const piece of middle) {
      const found = find(name, piece, at, end);
      if (found === -1) return false;
      at = found + piece.length;
    }
    return true;
  };
}
