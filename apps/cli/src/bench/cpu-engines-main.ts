/**
 * The CPU-engine benchmark: Switchyard's in-process engine vs llama.cpp (node-llama-cpp) on the paper
 * shapes. Prints a table and writes bench-results/cpu-engines.json (+ .md).
 *   pnpm --filter @switchyard/cli bench:cpu-engines [-- --quick] [--shapes a,b] [--layers N]
 *     [--threads 1,2] [--batches 1,8] [--prompt-tokens 128] [--decode-steps 32] [--repetitions 3]
 *     [--gguf-type F32|F16|BF16] [--out bench-results] [--merge]
 * --merge keeps the other shapes' rows of the out directory's cpu-engines.json (a run of a few shapes
 * at a time, same settings) and replaces the rows of the shapes measured now.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { integerList, oneInteger, scriptArgs } from './bench-args.js';
import { checkCpuEngineMerge, mergeCpuEngineResults, readCpuEngineResults } from './cpu-engine-results.js';
import { cpuEnginesMarkdown, runCpuEngineBench, writeCpuEngineResults } from './cpu-engines.js';
import { paperBenchShapes } from './paper-bench.js';

const root = join(import.meta.dirname, '../../../..');
const args = scriptArgs();
const { values } = parseArgs({
  args,
  options: {
    quick: { type: 'boolean', default: false },
    shapes: { type: 'string' },
    layers: { type: 'string' },
    threads: { type: 'string' },
    batches: { type: 'string' },
    'prompt-tokens': { type: 'string' },
    'decode-steps': { type: 'string' },
    repetitions: { type: 'string' },
    'gguf-type': { type: 'string', default: 'F32' },
    out: { type: 'string', default: join(root, 'bench-results') },
    merge: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: cpu-engines-main.ts [--quick] [--shapes a,b] [--layers N] [--threads 1,2] [--batches 1,8]\n' +
      '  [--prompt-tokens N] [--decode-steps N] [--repetitions N] [--gguf-type F32|F16|BF16] [--out DIR] [--merge]\n' +
      '  --merge: keep the other shapes of DIR/cpu-engines.json (same settings), replace the ones run now\n' +
      `  shapes: ${paperBenchShapes.join(', ')}\n`,
  );
  process.exit(0);
}

const quick = values.quick;
const ggufType = values['gguf-type'];
if (ggufType !== 'F32' && ggufType !== 'F16' && ggufType !== 'BF16') {
  process.stderr.write(`--gguf-type is F32, F16 or BF16, got ${JSON.stringify(ggufType)}\n`);
  process.exit(2);
}
const resultsFile = join(values.out, 'cpu-engines.json');
// Read before the run so a file that cannot be merged stops it before the long part.
const earlier = values.merge && existsSync(resultsFile) ? readCpuEngineResults(resultsFile) : undefined;
const settings = {
  threads: integerList(values.threads, quick ? [1] : [1, 2], 'threads'),
  batches: integerList(values.batches, quick ? [2] : [1, 8], 'batches'),
  promptTokens: oneInteger(values['prompt-tokens'], quick ? 16 : 128, 'prompt-tokens'),
  decodeSteps: oneInteger(values['decode-steps'], quick ? 4 : 32, 'decode-steps'),
  repetitions: oneInteger(values.repetitions, quick ? 1 : 3, 'repetitions'),
  ggufTensorType: ggufType,
} as const;
if (earlier) checkCpuEngineMerge(earlier, { quick, settings });
const measured = await runCpuEngineBench({
  fixturesDir: join(root, 'fixtures'),
  shapes: values.shapes?.split(',') ?? (quick ? ['bert-moe-12x4-top2'] : [...paperBenchShapes]),
  ...(values.layers !== undefined || quick ? { layers: oneInteger(values.layers, 2, 'layers') } : {}),
  ...settings,
  quick,
  command: `pnpm --filter @switchyard/cli bench:cpu-engines${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
  onProgress: (message) => process.stderr.write(`${message}\n`),
});
const result = earlier ? mergeCpuEngineResults(earlier, measured) : measured;
await writeCpuEngineResults(result, values.out);
process.stdout.write(cpuEnginesMarkdown(result));
process.stdout.write(`\nwrote ${resultsFile}${earlier ? ' (merged)' : ''}\n`);
