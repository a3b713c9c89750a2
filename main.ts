// The program: flags and configuration, then one SQLite store, per EVSE one board, meter, publication
// log and Kernel, and one HTTP server for all of them (docs/architecture.md, http-api.md).
import pkg from "./package.json" with { type: "json" };
import { effectiveToken } from "./api/auth.ts";
import { CliError, isLoopback, parseArgs, USAGE, type CliArgs } from "./api/cli-args.ts";
import type { EvseRuntime } from "./api/context.ts";
import type { PublicationLog } from "./api/publications.ts";
import { createLogger } from "./api/log.ts";
import type { RunningServer } from "./api/server.ts";
import { engineName, reexecWarning } from "./engine.ts";
import { loadConfigFile } from "./api/config-file.ts";
import { ConfigError, parseConfig, type AppConfig } from "./core/config/index.ts";
import type { EvseKernel } from "./core/kernel-api.ts";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Powermeter, SessionEvent } from "./core/types/index.ts";
import type { BoardHandle } from "./rt-worker/board-handle.ts";
import type { MqttBridge } from "./mqtt/index.ts";
import { announceListening, COMPILED, configureUpdates, SUPERVISED_ENV, UPDATE_EXIT_CODE } from "./update/service.ts";
import { startupMark } from "./startup-trace.ts";
import { prespawnSimulator } from "./rt-worker/prespawn.ts";

startupMark("main.ts evaluated");

const VERSION: string = pkg.version;
/** The git commit, baked in by build.ts; run from source there is none. */
const COMMIT: string | undefined = process.env.EVSE_MANAGER_COMMIT;
const TICK_MS = 100;
const SHUTDOWN_DEADLINE_MS = 1900;

/** Exit code 2 with a message: the contract's answer to bad flags, config or an unsafe listen address. */
function refuse(message: string): never {
  process.stderr.write(`evse-manager: ${message}\n`);
  process.exit(2);
}

function configure(args: CliArgs): AppConfig {
  const config = args.config !== undefined ? loadConfigFile(args.config) : parseConfig({}, "<defaults>");
  if (args.host !== undefined) config.api.host = args.host;
  if (args.port !== undefined) config.api.port = args.port;
  if (args.board !== undefined) config.board = args.board;
  if (args.log_format !== undefined) config.log_format = args.log_format;
  return config;
}

async function start(config: AppConfig, token: string | null, mqttCa?: Buffer): Promise<void> {
  // Start-up order is chosen for time to first /healthz: the store is opened and the board
  // threads are spawned first, so they boot on the other core while this thread loads the kernel
  // and the API. --help, --version and refused configurations never get here: they answer at
  // once, without loading the kernel.
  if (config.board === "sim") prespawnSimulator();
  const [{ startBoard, releasePrespawned, adoptOrSpawn, onEvery }, { openStoreSafely, SimPlugState, SimMeterState, snapshotOf, StoreError, LocalLimitState }, { simulatedBoards }] = await Promise.all([
    import("./rt-worker/index.ts"),
    import("./store/index.ts"),
    import("./sim/board/index.ts"),
  ]);
  startupMark("board and store modules loaded");
  // The simulated boards' one thread: the one prespawned above.
  const simulator = config.board === "sim" ? simulatedBoards(() => adoptOrSpawn("sim-board", 0)) : undefined;
  const logger = createLogger(config.log_format);
  // An unusable file is moved aside or replaced by memory, and said so here and in /healthz
  // (store/open-safely.ts). The one refusal: a file another process holds (store/storage-lock.ts);
  // its lock is taken before anything is written and before a board thread or the port is started.
  let store: import("./store/index.ts").Store;
  try {
    store = openStoreSafely(config.storage.path, (message) => logger.info(message));
  } catch (err) {
    if (err instanceof StoreError && err.kind === "in_use") refuse(`${err.message}; not started, nothing changed`);
    throw err;
  }
  startupMark("store open");
  const boot = config.evses.map((evseConfig, k) => {
    const index = k + 1;
    const keepPlug = config.board === "sim" && evseConfig.sim.keep_plug_state_across_restart;
    const evseStore = store.forEvse(index);
    const plugState = new SimPlugState(evseStore.kv);
    if (!keepPlug) plugState.forget();
    const startPluggedIn = keepPlug && plugState.wasPluggedIn();
    // The simulated meter continues its registers from the previous process (store/sim-meter-state.ts).
    const meterState = config.board === "sim" ? new SimMeterState(evseStore.kv) : null;
    const meterLeft = meterState?.restored() ?? null;
    const board = startBoard(
      { kind: config.board, index, sim: evseConfig.sim, hid: evseConfig.hid },
      {
        simulator,
        ...(startPluggedIn ? { simStartPluggedIn: true } : {}),
        ...(meterLeft ? { simStartMeter: { import_Wh: meterLeft.import_Wh, export_Wh: meterLeft.export_Wh } } : {}),
      },
    );
    board.catch(() => {}); // awaited below, after the imports; not an unhandled rejection meanwhile
    return { index, evseConfig, evseStore, keepPlug, plugState, meterState, meterLeft, board };
  });
  // Tokens (POST /api/v1/tokens) and, with ocpp.central_system_url, the OCPP charge point (ocpp/),
  // loaded while the board threads boot: the OCPP library takes a while to load.
  let resetRequested: ((kind: "Soft" | "Hard") => void) | null = null;
  const frontEndReady = import("./ocpp/index.ts").then(({ ChargingFrontEnd }) => {
    startupMark("ocpp module loaded");
    return ChargingFrontEnd.create({
      ocpp: config.ocpp,
      auth: config.auth,
      store: store.ocpp,
      version: VERSION,
      evseCount: config.evses.length,
      log: (line) => logger.info(line),
      now: () => Date.now(),
      restart: (kind) => resetRequested?.(kind),
      ratedCurrentA: Math.max(...config.evses.map((e) => e.max_current_import_A)),
      diagnosticsConfig: () => ({ ...config, api: { ...config.api, token: config.api.token ? "(set)" : undefined }, ocpp: { ...config.ocpp, authorization_key: config.ocpp.authorization_key ? "(set)" : "" } }),
    });
  });
  frontEndReady.catch(() => {}); // awaited below
  const [{ Kernel, SiteCoordinator }, { SimOcmfMeter }, { createApp, Metrics, PublicationLog }, { serve }] = await Promise.all([
    import("./core/index.ts"),
    import("./sim/meter/index.ts"),
    import("./api/index.ts"),
    import("./api/server.ts"),
  ]);
  startupMark("kernel and api modules loaded");
  const started = await Promise.allSettled(boot.map((b) => b.board));
  releasePrespawned(); // a worker that no connector adopted
  startupMark("boards started");
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    // One connector that cannot start stops them all: no board is left running unattended.
    await Promise.allSettled(started.map((r) => (r.status === "fulfilled" ? r.value.stop() : null)));
    throw failed.reason;
  }

  const metrics = new Metrics();
  const clock = { now: () => Date.now() };
  const frontEnd = await frontEndReady;
  startupMark("front end ready");
  const evses: (EvseRuntime & { board: BoardHandle })[] = [];
  /** Per EVSE, run on every tick and board event: persists the simulated car's plug state. */
  const plugWatchers: (() => void)[] = [];
  /** Per simulated EVSE: writes the meter's registers now (shutdown). */
  const meterSavers: (() => void)[] = [];

  for (const { index, evseConfig, evseStore, keepPlug, plugState, meterState, meterLeft, board: starting } of boot) {
    const board = await starting;
    const evseLog = logger.forEvse(index);
    const sim = board.sim;
    let watchPlug: (() => void) | null = null;
    if (keepPlug && sim) {
      watchPlug = () => {
        try {
          plugState.observe(sim.state().car.state !== "UNPLUGGED");
        } catch (err) {
          evseLog.log(`WARNING cannot persist the simulated car's plug state: ${(err as Error).message}`);
        }
      };
      watchPlug();
      plugWatchers.push(watchPlug);
    }

    const publications = new PublicationLog();
    publications.onPublish((p) => {
      evseLog.publication(p);
      metrics.publication(index, p);
    });
    let latest: Powermeter | null = null;
    const meter =
      config.board === "sim"
        ? await SimOcmfMeter.create({ getLatest: () => latest, clock, ...(meterLeft ? { register: { wh: meterLeft.register_Wh, boardWh: meterLeft.board_Wh } } : {}) })
        : null;
    const saveMeter = (when: "now" | "due") => {
      if (!meter || !meterState) return;
      try {
        const snapshot = snapshotOf(meter.registerState(), latest);
        if (when === "now") meterState.save(snapshot);
        else meterState.observe(snapshot);
      } catch (err) {
        evseLog.log(`WARNING cannot persist the simulated meter's registers: ${(err as Error).message}`);
      }
    };
    meterSavers.push(() => saveMeter("now"));
    const publish = (name: Parameters<PublicationLog["publish"]>[0], value: unknown) => {
      if (name === "session_event") {
        saveMeter("now");
        // Committed before anyone can see the event: a client that saw it finds it in the history.
        try {
          evseStore.recordEvent(value as SessionEvent);
        } catch (err) {
          // The event is still published: losing history must not hide what the charger does.
          evseLog.log(`ERROR session history: cannot record ${(value as SessionEvent).event}: ${(err as Error).message}`);
        }
      }
      publications.publish(name, value);
    };

    const kernel: EvseKernel = new Kernel({
      clock,
      board: board.port,
      meter,
      store: evseStore,
      config: evseConfig,
      publish,
      log: evseLog.log,
      newUuid: () => crypto.randomUUID(),
      nodeId: `evse_manager_${index}`,
      control: config.control,
    });
    const follow = frontEnd.attach(index, kernel);
    publications.onPublish((p) => follow(p.name, p.value));
    // Local control and site balancing (integration.md §2, §6): before the first board input, a
    // site-limited EVSE has no share yet, and the local limit of the previous run applies.
    if (config.site.max_current_A !== undefined) void kernel.setSiteShare(0);
    const localLimit = new LocalLimitState(evseStore.kv, evseLog.log);
    const keptLimit = localLimit.load();
    if (keptLimit !== null) {
      void kernel.localControl({ max_current_A: keptLimit });
      evseLog.log(`local current limit ${keptLimit} A restored from the previous run`);
    }
    board.onInput((input) => {
      if (input.kind === "powermeter") {
        latest = input.value;
        meter?.observe(input.value);
        saveMeter("due");
      }
      if (input.kind === "event") watchPlug?.();
      metrics.boardInput(index, input);
      kernel.boardInput(input);
    });
    kernel.boot();
    if (meter) kernel.boardInput({ kind: "public_key_ocmf", value: meter.publicKey() });
    evses.push({ index, kernel, board, publications, sessions: evseStore, localLimit, siteMaxCurrentA: config.site.max_current_A, failsafeCurrentA: config.control.failsafe_current_A });
  }
  const siteMax = config.site.max_current_A;
  const site = siteMax === undefined ? null : new SiteCoordinator(siteMax, evses.map((e) => ({ kernel: e.kernel, reportedDutyPercent: () => e.board.reportedDutyPercent() })), (i, line) => logger.forEvse(i).log(line));
  site?.start();

  let ticking = false;
  // On the board hosts' timer (rt-worker/host-ticker.ts): one wake-up of this thread for both.
  const stopTicker = onEvery(TICK_MS, () => {
    if (ticking) return; // a slow pass is never stacked under the next one
    ticking = true;
    for (const watch of plugWatchers) watch();
    Promise.all(evses.map((e) => e.kernel.tick()))
      .then(() => site?.rebalance())
      .catch((err) => logger.info(`tick failed: ${(err as Error).stack ?? err}`))
      .finally(() => (ticking = false));
  });

  // MQTT and Home Assistant (integration.md §3–4): loaded only when a broker is configured.
  let mqtt: MqttBridge | null = null;
  if (config.mqtt.url !== undefined) {
    const { startMqttBridge, bridgeEvse } = await import("./mqtt/index.ts");
    const bridge = startMqttBridge(
      { ...config.mqtt, url: config.mqtt.url },
      { evses: evses.map((e, k) => bridgeEvse(e, config.evses[k]!)), log: (line) => logger.info(line), version: VERSION, hostname: hostname(), ca: mqttCa },
    );
    metrics.mqtt(() => bridge.stats());
    mqtt = bridge;
  }
  frontEnd.start();

  startupMark("kernels booted");
  const storage = { persistent: store.path !== ":memory:", problem: store.problem };
  const app = createApp({ version: VERSION, token, evses, metrics, logger, now: () => Date.now(), startedAt: Date.now(), storage, frontEnd, ...(mqtt ? { mqtt } : {}) });
  let server: RunningServer;
  try {
    server = await serve(app.fetch, { hostname: config.api.host, port: config.api.port });
  } catch (err) {
    process.stderr.write(`evse-manager: cannot listen on ${config.api.host}:${config.api.port}: ${(err as Error).message}\n`);
    await Promise.all(evses.map((e) => e.board.stop()));
    store.close();
    process.exit(1);
  }
  startupMark("listening");
  const host = config.api.host.includes(":") && !config.api.host.startsWith("[") ? `[${config.api.host}]` : config.api.host;
  // The engine mode launch.ts settled (docs/integrators.md, "Memory and the JIT").
  logger.info(`listening on http://${host}:${server.port}`, { version: VERSION, board: config.board, evses: evses.length, engine: engineName() });
  const engineWarning = reexecWarning();
  if (engineWarning !== null) logger.info(engineWarning);
  announceListening(config.api.host, server.port);

  let stopping = false;
  const shutdown = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: shutting down`);
    const deadline = setTimeout(() => {
      logger.info("shutdown did not finish in time; exiting");
      process.exit(code);
    }, SHUTDOWN_DEADLINE_MS);
    stopTicker();
    void server.stop();
    // Relays open and the record is written (kernel.shutdown) before the board threads stop.
    await Promise.allSettled(evses.map((e) => e.kernel.shutdown()));
    await Promise.allSettled(evses.map((e) => e.board.stop()));
    await mqtt?.stop(); // after the kernel's last events; publishes `offline`
    await frontEnd.stop().catch(() => {});
    // The board thread's final state, for operators and the shutdown test: the relays were open.
    for (const e of evses) {
      const relays = e.board.sim?.state().relays_closed ?? (e.board as { relaysClosed?: () => boolean }).relaysClosed?.();
      logger.info(`evse ${e.index}: board stopped, relays_closed=${relays ?? "unknown"}`);
    }
    for (const save of meterSavers) save();
    // Last: the kernel's shutdown writes the open-transaction record and publishes its events.
    store.close();
    clearTimeout(deadline);
    if (reexec) reexec();
    process.exit(code);
  };
  let reexec: (() => void) | null = null;
  // OCPP Reset (ocpp.md §5.5): close cleanly, then start the same program again. Under the
  // supervisor it restarts us; otherwise the successor is spawned once the store is closed.
  resetRequested = (kind) => {
    if (process.env[SUPERVISED_ENV] === "1") {
      void shutdown(`OCPP ${kind} reset`, UPDATE_EXIT_CODE);
      return;
    }
    reexec = () => {
      const argv = COMPILED ? [process.execPath, ...process.argv.slice(2)] : [process.execPath, ...process.argv.slice(1)];
      const child = Bun.spawn(argv, { stdio: ["ignore", "inherit", "inherit"], env: process.env });
      child.unref();
      logger.info(`OCPP ${kind} reset: restarted as pid ${child.pid}`);
    };
    void shutdown(`OCPP ${kind} reset`);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  configureUpdates({
    exe: COMPILED ? process.execPath : null,
    publicKey: config.update.public_key,
    maxBytes: config.update.max_size_mb * 1024 * 1024,
    supervised: process.env[SUPERVISED_ENV] === "1",
    arch: process.arch,
    restart: () => void shutdown("update installed", UPDATE_EXIT_CODE),
    log: (line) => logger.info(line),
  });
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === "sign-update" || argv[0] === "supervise") process.exit(await (await import("./update/cli.ts")).runSubcommand(argv));
  let args: CliArgs;
  let config: AppConfig;
  try {
    args = parseArgs(argv);
    if (args.help) {
      process.stdout.write(USAGE + "\n");
      process.exit(0);
    }
    if (args.version) {
      process.stdout.write((COMMIT ? `${VERSION} (commit ${COMMIT})` : VERSION) + "\n");
      process.exit(0);
    }
    config = configure(args);
  } catch (err) {
    if (err instanceof CliError || err instanceof ConfigError) refuse(err.message);
    throw err;
  }
  const token = effectiveToken(config.api.token, process.env.EVSE_API_TOKEN);
  if (token === null && !isLoopback(config.api.host)) {
    refuse(`refusing to listen on ${config.api.host} without an API token: set api.token in the config or EVSE_API_TOKEN`);
  }
  let mqttCa: Buffer | undefined;
  if (config.mqtt.ca_file !== undefined) {
    try {
      mqttCa = readFileSync(config.mqtt.ca_file);
    } catch (err) {
      refuse(`invalid configuration: mqtt.ca_file: cannot read ${config.mqtt.ca_file}: ${(err as Error).message}`);
    }
  }
  try {
    await start(config, token, mqttCa);
  } catch (err) {
    process.stderr.write(`evse-manager: start-up failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  }
}

await main(process.argv.slice(2));
