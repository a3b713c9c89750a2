// Why the persistence file could not be used. `kind` lets openStoreSafely choose between
// moving a corrupt file aside and leaving an unusable location untouched.

export type StoreErrorKind =
  | "missing_directory" // the folder of storage.path does not exist (an unmounted volume looks like this)
  | "unwritable" // SQLite cannot open or write the file
  | "corrupt" // the file is not an SQLite database or fails its integrity check
  | "newer_schema" // written by a newer evse-manager; we must not touch it
  | "in_use" // another live process holds the file's lock (storage-lock.ts): start-up stops, exit code 2
  | "unreadable_record"; // the open-transaction row is not a record we can use

export class StoreError extends Error {
  readonly kind: StoreErrorKind;
  readonly path: string;
  constructor(kind: StoreErrorKind, path: string, message: string, options?: { cause?: unknown }) {
    super(`storage ${JSON.stringify(path)}: ${message}`, options);
    this.name = "StoreError";
    this.kind = kind;
    this.path = path;
  }
}
