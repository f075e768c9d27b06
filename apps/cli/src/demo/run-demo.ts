import { cpus } from 'node:os';
import { join } from 'node:path';
import { type Logger, type RoutingTrace, readRoutingTrace } from '@switchyard/core';
import { type ComputeProfile, fitComputeProfile } from '@switchyard/cost-model';
import { loadModel, type MoeModel } from '@switchyard/model';
import type { Output } from '../output.js';
import type { ReportData } from '../report/report-data.js';
import { measureExpertPoints } from './profile.js';

export interface DemoOptions {
  modelDir: string;
  tracesDir: string;
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  seed: number;
  sloMs: number;
  tokensPerBatch: number;
}

export interface DemoStep {
  step: string;
  status: 'done' | 'missing';
  seconds: number;
  detail: string;
}

export interface DemoResult {
  text: { prompt: string; completion: string; generatedBy: string };
  steps: DemoStep[];
  profile?: ComputeProfile;
  report: ReportData;
}

async function timed<T>(
  steps: DemoStep[],
  step: string,
  work: () => Promise<{ value: T; detail: string }>,
): Promise<T> {
  const started = performance.now();
  const { value, detail } = await work();
  steps.push({ step, status: 'done', seconds: (performance.now() - started) / 1000, detail });
  return value;
}

function missing(steps: DemoStep[], step: string, detail: string): void {
  steps.push({ step, status: 'missing', seconds: 0, detail });
}

/** Runs the demo end to end with what the packages provide; every figure comes from a real run. */
export async function runDemo(
  options: DemoOptions,
  io: { output: Output; logger: Logger },
): Promise<DemoResult> {
  const steps: DemoStep[] = [];
  const model: MoeModel = await timed(steps, 'load model', async () => {
    const loaded = await loadModel(options.modelDir, { threads: 1, logger: io.logger });
    const s = loaded.summary;
    return {
      value: loaded,
      detail: `${s.name}: ${s.numLayers} layers, ${s.numExperts} experts top-${s.topK}, hidden ${s.hiddenSize}, ${(s.parameters.total / 1e6).toFixed(2)} M parameters`,
    };
  });
  try {
    const traces = await timed(steps, 'read routing traces', async () => {
      const calibration = await readRoutingTrace(join(options.tracesDir, 'calibration.safetensors'));
      const heldout = await readRoutingTrace(join(options.tracesDir, 'heldout.safetensors'));
      return {
        value: { calibration, heldout } as { calibration: RoutingTrace; heldout: RoutingTrace },
        detail: `calibration ${calibration.numTokens.toLocaleString('en-US')} tokens, held-out ${heldout.numTokens.toLocaleString('en-US')} tokens`,
      };
    });

    const profile = await timed(steps, 'profile expert compute', async () => {
      const threadCounts = [1, 2];
      const tokenCounts = [16, 64, 256];
      const bar = io.output.progress('profiling experts', threadCounts.length * tokenCounts.length);
      const points = await measureExpertPoints(model, {
        layer: 0,
        expert: 0,
        threadCounts,
        tokenCounts,
        repetitions: 5,
        onPoint: (done) => bar.tick(done),
      });
      bar.done();
      const fitted = fitComputeProfile(points, {
        subject: {
          model: model.summary.name,
          hiddenSize: model.summary.hiddenSize,
          intermediateSize: model.summary.expertIntermediateSize,
          experts: 'layer 0 expert 0',
        },
        machine: { description: 'this machine (in process)', logicalCpus: cpus().length },
      });
      const one = fitted.fits.find((fit) => fit.threads === 1)!;
      return {
        value: fitted,
        detail: `in process at 1 and 2 threads: ${one.fixedMs.toFixed(3)} ms + ${(one.perTokenMs * 1000).toFixed(2)} µs/token at 1 thread`,
      };
    });

    missing(
      steps,
      'fit predictor',
      '@switchyard/predictor (fitPredictor, evaluatePredictor) is not on main yet',
    );
    missing(steps, 'plan with the BO', '@switchyard/optimizer (planDeployment) is not on main yet');
    missing(
      steps,
      'deploy to the local runtime',
      '@switchyard/lambda-executor (startLocalRuntime, deployPlan, the expert function) is not on main yet',
    );

    const completion = await timed(steps, 'generate text', async () => {
      const promptTokens = [...Buffer.from(options.prompt, 'utf8')];
      const bar = io.output.progress('generating', options.maxNewTokens);
      const [result] = await model.generate([promptTokens], {
        maxNewTokens: options.maxNewTokens,
        temperature: options.temperature,
        seed: options.seed,
      });
      bar.done();
      const text = Buffer.from(result!.tokens).toString('utf8');
      return {
        value: text,
        detail: `${result!.tokens.length} tokens, experts in process (no deployment yet)`,
      };
    });
    missing(steps, 'bill from the runtime', 'needs the deployment above: no BillingReports to sum');

    const s = model.summary;
    const report: ReportData = {
      title: 'Switchyard demo',
      subtitle: `${s.name} on the embedded Lambda runtime`,
      generatedAt: new Date().toISOString(),
      model: { name: s.name, layers: s.moeLayers.length, experts: s.numExperts, topK: s.topK },
      popularity: {
        source: 'routing traces (calibration + held-out)',
        layers: s.moeLayers.map((layer, index) => {
          const counts = new Array<number>(s.numExperts).fill(0);
          for (const trace of [traces.calibration, traces.heldout]) {
            const perLayer = trace.numTokens * trace.topK;
            for (let i = index * perLayer; i < (index + 1) * perLayer; i++) counts[trace.topkIds[i]!]! += 1;
          }
          return { layer, tokens: counts };
        }),
      },
      text: { prompt: options.prompt, completion },
      notes: steps
        .filter((step) => step.status === 'missing')
        .map((step) => `Missing: ${step.step} — ${step.detail}.`),
    };
    return {
      text: { prompt: options.prompt, completion, generatedBy: 'in process' },
      steps,
      profile,
      report,
    };
  } finally {
    await model.close();
  }
}
