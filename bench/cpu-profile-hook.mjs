// Preloaded (NODE_OPTIONS=--import) into every process of the service when BENCH_PROFILE_DIR is set: starts V8's
// sampling profiler and writes <dir>/<pid>.cpuprofile at exit (open it in Chrome DevTools or speedscope).
// Node refuses --cpu-prof in NODE_OPTIONS, and the supervisor forks its workers with its own execArgv, so an
// inspector session started from a preload is the one way to reach the workers without touching src/.
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";

const dir = process.env.BENCH_PROFILE_DIR;
if (dir && isMainThread) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 200 }); // µs
  session.post("Profiler.start");
  // The inspector answers a same-thread session synchronously, so this works inside the synchronous 'exit' event.
  process.on("exit", () => {
    session.post("Profiler.stop", (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
