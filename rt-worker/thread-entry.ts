// Where a worker thread's code lives. Run from source, the entry is a file next to this one
// (a URL, so the cwd does not matter). Inside a compiled binary a URL entry silently never
// starts; there the entry is addressed by its path relative to the project root, which is how
// build.ts lists it as an extra entry point of the compile.
const COMPILED = import.meta.url.includes("$bunfs");

/** `fromRoot` is the entry's path from the project root, e.g. "rt-worker/worker.ts". */
export function threadEntry(fromRoot: string): string | URL {
  return COMPILED ? `./${fromRoot}` : new URL(`../${fromRoot}`, import.meta.url);
}
