/**
 * Preloaded into every function instance process (`--import`, see `nodeArguments`): the instance
 * exits once the runtime that started it is gone, so no instance outlives its runtime when the
 * runtime's process dies without closing it (a crash, SIGKILL, a test that never stopped it). A
 * process whose parent dies is re-parented (to init or a subreaper), so a changed `process.ppid`
 * means the runtime is gone. One check a second on an unreferenced timer: it never keeps the
 * instance alive on its own and costs nothing measurable.
 */
const runtimePid = process.ppid;
const checkEveryMs = 1000;

function runtimeGone(): boolean {
  // Started after the runtime died already: the parent is init from the first check.
  return runtimePid === 1 || process.ppid !== runtimePid;
}

setInterval(() => {
  if (runtimeGone()) process.exit(1);
}, checkEveryMs).unref();
