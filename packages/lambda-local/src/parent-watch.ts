/**
 * Preloaded into a function instance process (`--import`, see `nodeArguments`) where the kernel's
 * parent-death signal is not available (no util-linux `setpriv`; see `instanceCommand`): the instance
 * ends once the runtime that started it is gone, so no instance outlives its runtime when the
 * runtime's process dies without closing it (a crash, SIGKILL, a test that never stopped it). A
 * process whose parent dies is re-parented (to init or a subreaper), so a changed `process.ppid`
 * means the runtime is gone.
 *
 * The check runs on a worker thread of its own, not on the instance's main thread: an instance's
 * main thread can sit in a synchronous wait for as long as it likes (`aws-lambda-ric` blocks in a
 * native call while it waits for the next invocation), and a timer there never fires. The worker
 * SIGKILLs its own process — `process.exit` in a worker would end only the worker. It runs plain
 * JavaScript with no preloads (`execArgv: []`, so it neither loads tsx nor preloads this file
 * again), checks once a second, and is unreferenced: it never keeps the instance alive on its own.
 */
import { Worker } from 'node:worker_threads';

/** How often the worker compares the parent pid, ms. */
const checkEveryMs = 1000;

/**
 * The worker's code (CommonJS, evaluated): the runtime's pid as this process saw it at start; a
 * parent of 1 at the first check means the runtime died before the instance got this far.
 */
const watchCode = `
const runtimePid = ${process.ppid};
setInterval(() => {
  if (runtimePid === 1 || process.ppid !== runtimePid) process.kill(process.pid, 'SIGKILL');
}, ${checkEveryMs});
`;

const watch = new Worker(watchCode, {
  eval: true,
  execArgv: [],
  stdout: false,
  stderr: false,
});
watch.unref();
// A watch that could not start must not take the function down with it (an unhandled 'error'
// event would): the instance then runs unwatched, as it would without this file.
watch.on('error', () => {});
