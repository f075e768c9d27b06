import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deploymentPlanSchema } from '@switchyard/core';
import { samTemplate } from '@switchyard/lambda-executor';
import { runCli } from '@switchyard/testing/cli';
import { afterAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'switchyard-plan-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('switchyard plan (child process)', () => {
  it('plans a paper shape, writes a schema-valid plan and reports the baselines as JSON', async () => {
    const out = join(work, 'paper.json');
    const run = await runCli(
      [
        'plan',
        '--model',
        'paper:bert-moe-12x4',
        '--tokens-per-batch',
        '10240',
        '--slo-ms',
        '20000',
        '--seed',
        '1',
        '--out',
        out,
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.sloMet).toBe(true);
    expect(summary.latencyMs).toBeLessThanOrEqual(20_000);
    expect(summary.costUsdPerBatch).toBeGreaterThan(0);
    expect(summary.priceTable.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(summary.baselines.lambdaml.costUsdPerBatch).toBeGreaterThan(summary.costUsdPerBatch);
    expect(summary.baselines.cpuCluster.latencyMs).toBeGreaterThan(0);
    const plan = deploymentPlanSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(plan.strategy).toBe('bo');
    expect(plan.layers).toHaveLength(12);
    expect(plan.predicted.costUsdPerBatch).toBe(summary.costUsdPerBatch);
    expect(plan.search?.seed).toBe(1);
  }, 150_000);

  it('plans a checkpoint from its routing trace with the ODS baseline and prints a table', async () => {
    const out = join(work, 'shakespeare.json');
    const run = await runCli(
      [
        'plan',
        '--model',
        'fixtures/checkpoints/shakespeare-mixtral-8x2',
        '--traces',
        'fixtures/traces/shakespeare-mixtral-8x2/calibration.safetensors',
        '--tokens-per-batch',
        '1024',
        '--slo-ms',
        '3000',
        '--strategy',
        'ods',
        '--out',
        out,
      ],
      { timeoutMs: 120_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('ods (this plan)');
    expect(run.stdout).toContain('LambdaML');
    const plan = deploymentPlanSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(plan.model.name).toBe('shakespeare-mixtral-8x2');
    expect(run.stdout).toContain(`prices: table ${plan.priceTable.version}, dated ${plan.priceTable.date}`);
    expect(plan.model.numExperts).toBe(8);
    expect(plan.model.topK).toBe(2);
    expect(plan.layers.map((layer) => layer.layer)).toEqual([0, 1, 2, 3]);
    // Deployment accepts it: one Lambda function per replica in the generated SAM template.
    const template = samTemplate(plan);
    const replicas = plan.layers.flatMap((layer) => layer.functions.flatMap((fn) => fn.functionNames));
    expect(template.match(/Type: AWS::Serverless::Function/g)).toHaveLength(replicas.length);
    for (const name of replicas) expect(template).toContain(`FunctionName: ${name}`);
  }, 150_000);

  it('fails with SLO_INFEASIBLE and the best achievable latency on one line', async () => {
    const run = await runCli(
      [
        'plan',
        '--model',
        'paper:gpt2-moe-12x4',
        '--tokens-per-batch',
        '10240',
        '--slo-ms',
        '50',
        '--out',
        join(work, 'x.json'),
      ],
      { timeoutMs: 120_000 },
    );
    expect(run.code).not.toBe(0);
    const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/SLO_INFEASIBLE.*best achievable latency is \d+(\.\d)? ms — raise --slo-ms/);
  }, 150_000);

  it('takes a load forecast JSON, and asks for tokens when given a predictor without a trace', async () => {
    const forecastPath = join(work, 'forecast.json');
    writeFileSync(
      forecastPath,
      JSON.stringify({
        tokensPerBatch: 2048,
        intervalLevel: 0.9,
        layers: Array.from({ length: 12 }, (_, layer) => ({
          layer,
          mean: [1200, 500, 300, 48],
          low: [1100, 450, 260, 30],
          high: [1300, 550, 340, 66],
        })),
      }),
    );
    const predictorPath = join(work, 'predictor.json');
    writeFileSync(predictorPath, JSON.stringify({ format: 'switchyard-predictor' }));
    const [withForecast, withoutTokens] = await Promise.all([
      runCli(
        [
          'plan',
          '--model',
          'paper:bert-moe-12x4',
          '--predictor',
          forecastPath,
          '--tokens-per-batch',
          '2048',
          '--slo-ms',
          '20000',
          '--strategy',
          'ods',
          '--out',
          join(work, 'f.json'),
          '--json',
        ],
        { timeoutMs: 120_000 },
      ),
      runCli([
        'plan',
        '--model',
        'paper:bert-moe-12x4',
        '--predictor',
        predictorPath,
        '--tokens-per-batch',
        '2048',
        '--slo-ms',
        '20000',
        '--out',
        join(work, 'g.json'),
      ]),
    ]);
    expect(withForecast.code, withForecast.stderr).toBe(0);
    const plan = deploymentPlanSchema.parse(JSON.parse(readFileSync(join(work, 'f.json'), 'utf8')));
    expect(plan.layers[0]!.experts.map((expert) => expert.predictedTokens)).toEqual([1200, 500, 300, 48]);
    expect(withoutTokens.code).not.toBe(0);
    expect(withoutTokens.stderr).toContain('pass --traces');
  }, 150_000);

  it('rejects an unknown strategy and an unknown paper shape', async () => {
    const [strategy, shape] = await Promise.all([
      runCli([
        'plan',
        '--model',
        'paper:bert-moe-12x4',
        '--tokens-per-batch',
        '8',
        '--slo-ms',
        '9',
        '--strategy',
        'gurobi',
        '--out',
        join(work, 'y.json'),
      ]),
      runCli([
        'plan',
        '--model',
        'paper:bert-moe-3x3',
        '--tokens-per-batch',
        '8',
        '--slo-ms',
        '9',
        '--out',
        join(work, 'z.json'),
      ]),
    ]);
    expect(strategy.code).not.toBe(0);
    expect(strategy.stderr).toContain('gurobi');
    expect(shape.code).not.toBe(0);
    expect(shape.stderr).toContain('unknown paper shape');
  });
});
