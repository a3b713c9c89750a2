// Every acceptance scenario of scenarios.md in one test file, so that all of them share the
// harness's pool of at most SCENARIO_MAX_SERVERS servers instead of running file by file (bun
// runs files one after another; the pool keeps the 2-core machine busy without overloading it).
// The longest groups are registered first so they are not the ones left waiting for a server.
import "./s26-s32.scenarios.ts";
import "./s25-restart.scenarios.ts";
import "./s16-s20.scenarios.ts";
import "./s01-s05.scenarios.ts";
import "./s11-s15.scenarios.ts";
import "./s06-s10.scenarios.ts";
import "./s21-s24.scenarios.ts";
