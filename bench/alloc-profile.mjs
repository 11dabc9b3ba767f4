/**
 * Preload that records where a process allocates, collected objects included (V8's sampling heap
 * profiler keeps only live objects unless asked), and writes it as `alloc-<pid>.heapprofile` into
 * $ALLOC_PROFILE_DIR when the process exits: open it in Chrome DevTools (Memory tab, Load). For the
 * pipeline under load (docs/benchmarks.md, "Allocation on the message path"):
 *
 *   npm run bench -- pipeline --phases=throughput --seconds=30 \
 *     "--env=NODE_OPTIONS=--import=$PWD/bench/alloc-profile.mjs,ALLOC_PROFILE_DIR=/tmp/alloc"
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

const dir = process.env.ALLOC_PROFILE_DIR;
if (dir === undefined || dir === "") throw new Error("bench/alloc-profile.mjs: set ALLOC_PROFILE_DIR to where the profile should go");
mkdirSync(dir, { recursive: true });

const session = new Session();
session.connect();
session.post("HeapProfiler.startSampling", { samplingInterval: 32_768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
// A main-thread session answers synchronously, so this still runs inside the exit handler.
process.once("exit", () => {
  session.post("HeapProfiler.stopSampling", (err, result) => {
    if (err === null) writeFileSync(join(dir, `alloc-${process.pid}.heapprofile`), JSON.stringify(result.profile));
  });
});
