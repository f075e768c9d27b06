import { createRandom } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { GaussianProcess } from './gaussian-process.js';

function dataset(n: number, seed: number) {
  const random = createRandom(seed);
  const inputs = new Float64Array(n * 2);
  const targets: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = random();
    const b = random();
    inputs[i * 2] = a;
    inputs[i * 2 + 1] = b;
    // Varies fast along the first feature, barely along the second.
    targets.push(Math.sin(8 * a) + 0.05 * b);
  }
  return { inputs, targets };
}

describe('GaussianProcess', () => {
  it('interpolates its training data with small posterior variance', () => {
    const { inputs, targets } = dataset(25, 3);
    const model = new GaussianProcess({ featureDimension: Int32Array.from([0, 1]) });
    model.setData(inputs, targets);
    for (let i = 0; i < 25; i++) {
      const prediction = model.predict(inputs, i * 2);
      expect(prediction.mean).toBeCloseTo(targets[i]!, 1);
      expect(prediction.standardDeviation).toBeLessThan(0.2);
    }
  });

  it('fitting raises the marginal likelihood and learns a shorter length scale for the relevant feature', () => {
    const { inputs, targets } = dataset(30, 5);
    const unfitted = new GaussianProcess({ featureDimension: Int32Array.from([0, 1]) });
    unfitted.setData(inputs, targets, { fit: false });
    const fitted = new GaussianProcess({ featureDimension: Int32Array.from([0, 1]), fitIterations: 120 });
    fitted.setData(inputs, targets);
    expect(fitted.logMarginalLikelihood()).toBeGreaterThan(unfitted.logMarginalLikelihood());
    expect(fitted.hyperparameters.lengthScales[0]!).toBeLessThan(fitted.hyperparameters.lengthScales[1]!);
  });

  it('has an analytic likelihood gradient that matches finite differences', () => {
    const { inputs, targets } = dataset(12, 9);
    const model = new GaussianProcess({ featureDimension: Int32Array.from([0, 1]) });
    model.setData(inputs, targets, { fit: false });
    const internals = model as unknown as {
      evaluate(parameters: Float64Array, withGradient: boolean): { value: number; gradient: Float64Array };
    };
    const parameters = Float64Array.from([Math.log(0.3), Math.log(0.9), Math.log(1.2), Math.log(0.01)]);
    const { gradient } = internals.evaluate(parameters, true);
    for (let p = 0; p < parameters.length; p++) {
      const step = 1e-5;
      const up = Float64Array.from(parameters);
      const down = Float64Array.from(parameters);
      up[p]! += step;
      down[p]! -= step;
      const numeric =
        (internals.evaluate(up, false).value - internals.evaluate(down, false).value) / (2 * step);
      expect(gradient[p]!).toBeCloseTo(numeric, 3);
    }
  });

  it('is uncertain far from the data', () => {
    const model = new GaussianProcess({ featureDimension: Int32Array.from([0]) });
    model.setData(Float64Array.from([0, 0.1, 0.2]), [1, 2, 3], { fit: false });
    const near = model.predict(Float64Array.from([0.1]));
    const far = model.predict(Float64Array.from([1]));
    expect(far.standardDeviation).toBeGreaterThan(near.standardDeviation * 5);
  });
});
