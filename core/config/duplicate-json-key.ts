// JSON.parse keeps the last of two equal keys in an object and says nothing; in a configuration
// file that hides a mistake (two `port`s, the first one silently ignored), which the YAML parser
// refuses. This finds the first repeated key of a text that JSON.parse has accepted, so JSON
// configurations skip the YAML parser (some 5 ms of every start) without losing that refusal.

/** Where a key repeats: its path (dotted, indices in brackets, as configuration errors name them). */
export interface DuplicateKey {
  path: string;
  /** 1-based line of the repeated key. */
  line: number;
}

/** The first key that repeats within one object of `text`, which must be valid JSON; null if none. */
export function duplicateJsonKey(text: string): DuplicateKey | null {
  // One frame per open object or array: the keys seen so far (null for an array), the path to it,
  // and the key or index of the value being read.
  const frames: { keys: Set<string> | null; path: string; at: string | number }[] = [];
  let line = 1;
  const pathOf = (f: { path: string; at: string | number }): string =>
    typeof f.at === "number" ? `${f.path}[${f.at}]` : f.path === "" ? f.at : `${f.path}.${f.at}`;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    else if (c === "{" || c === "[") {
      const outer = frames[frames.length - 1];
      frames.push({ keys: c === "{" ? new Set() : null, path: outer ? pathOf(outer) : "", at: c === "{" ? "" : 0 });
    } else if (c === "}" || c === "]") frames.pop();
    else if (c === ",") {
      const f = frames[frames.length - 1]!;
      if (f.keys === null) f.at = (f.at as number) + 1;
    } else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const f = frames[frames.length - 1];
      let after = end + 1;
      while (after < text.length && /\s/.test(text[after]!)) after++;
      if (f?.keys && text[after] === ":") {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (f.keys.has(key)) return { path: pathOf({ path: f.path, at: key }), line };
        f.keys.add(key);
        f.at = key;
      }
      i = end;
    }
  }
  return null;
}
