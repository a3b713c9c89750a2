// Subcommands that are not the server: `sign-update` for whoever publishes updates, and
// `supervise` for the service manager (supervisor.ts).
//
//   evse-manager sign-update --generate-key KEY.pem     new key pair; prints update.public_key
//   evse-manager sign-update --key KEY.pem BINARY [--out FILE]   writes BINARY.sig
import { createHash } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { generateKeyPair, KeyError, parsePrivateKey, publicKeyBase64, signDigest } from "./signature.ts";
import { supervise } from "./supervisor.ts";
import { parseStrict, UsageError } from "./usage.ts";

export const SUBCOMMANDS = ["sign-update", "supervise"] as const;

export const SIGN_USAGE = `Usage: evse-manager sign-update --key KEY.pem BINARY [--out SIGFILE]
       evse-manager sign-update --generate-key KEY.pem

  --key KEY.pem          Ed25519 private key (PEM, PKCS#8), e.g. from --generate-key
  --out SIGFILE          where the signature goes (default BINARY.sig)
  --generate-key FILE    writes a new private key (mode 0600) and prints the public key for update.public_key`;

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  // Bun.file, not fs.createReadStream: a node:fs stream import is hoisted into the binary's
  // start-up by the bundler, and costs every start a few milliseconds.
  for await (const chunk of Bun.file(path).stream()) hash.update(chunk);
  return hash.digest("hex");
}

const SIGN_OPTIONS = {
  key: { type: "string" },
  out: { type: "string" },
  "generate-key": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

async function signUpdate(args: string[]): Promise<number> {
  const { values, positionals } = parseStrict(args, SIGN_OPTIONS, true);
  if (values.help) {
    process.stdout.write(SIGN_USAGE + "\n");
    return 0;
  }
  const { key, out } = values;
  const generate = values["generate-key"];
  if (positionals.length > 1) throw new UsageError(`only one BINARY can be signed at a time, got ${positionals.map((p) => `"${p}"`).join(" and ")}`);
  const binary = positionals[0];
  if (generate !== undefined) {
    if (generate === "") throw new UsageError("--generate-key needs a file name");
    if (existsSync(generate)) throw new UsageError(`--generate-key: ${generate} exists; a key is never overwritten`);
    const pair = generateKeyPair();
    writeFileSync(generate, pair.privatePem, { mode: 0o600 });
    chmodSync(generate, 0o600);
    process.stdout.write(`private key written to ${generate} (keep it off the gateways)\nupdate.public_key: ${pair.publicBase64}\n`);
    return 0;
  }
  if (key === undefined) throw new UsageError("--key KEY.pem is required");
  if (binary === undefined) throw new UsageError("name the BINARY to sign");
  let privateKey;
  try {
    privateKey = parsePrivateKey(readFileSync(key, "utf8"));
  } catch (err) {
    throw new UsageError(`--key ${key}: ${err instanceof KeyError ? err.message : (err as Error).message}`);
  }
  if (!existsSync(binary)) throw new UsageError(`${binary}: no such file`);
  const digest = await sha256File(binary);
  const signature = signDigest(privateKey, digest);
  const target = out ?? `${binary}.sig`;
  writeFileSync(target, signature + "\n");
  process.stdout.write(`sha256 ${digest}\nsignature written to ${target} (public key ${publicKeyBase64(privateKey)})\n`);
  return 0;
}

/** Runs a subcommand; the exit code is returned for main.ts to exit with. */
export async function runSubcommand(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === "supervise") return await supervise(rest);
    return await signUpdate(rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`evse-manager ${name}: ${err.message}\n`);
    return 2;
  }
}
