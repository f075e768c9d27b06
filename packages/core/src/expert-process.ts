/**
 * How a process runs expert graphs. Shared by `@switchyard/model` (in-process sessions) and the expert
 * function (`@switchyard/expert-function`), so both run the same kernels and produce the same bits.
 */

/**
 * onnxruntime-node session options for every graph Switchyard runs (plain data, so this package needs
 * no onnxruntime). Intra-op pool threads never spin (`session.intra_op.allow_spinning = 0`): a process
 * holds many sessions (one per expert, one per dense graph) and runs them one after another, so with
 * onnxruntime's default a pool that just finished keeps a core busy while the next session runs
 * (`pnpm --filter @switchyard/model bench -- --only spinning` measures it). Spinning changes scheduling
 * only, never the numbers.
 */
export function onnxSessionSettings(threads: number) {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential' as const,
    graphOptimizationLevel: 'all' as const,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/**
 * Environment of a process that runs expert graphs (an expert function, or a profiler measuring one):
 * glibc keeps freed blocks of up to 32 MB in the heap and trims the heap only past 128 MB. With glibc's
 * defaults the large temporary buffers of each expert call (activations, onnxruntime outputs) go back to
 * the kernel and are faulted in again later; a process running one expert session repeatedly spent
 * stretches at about twice the time per call. It must be set before the process starts.
 */
export const expertProcessEnvironment: Readonly<Record<string, string>> = Object.freeze({
  GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728',
});
