import { cholesky, choleskyInverse, choleskySolve, solveLower } from './linear-algebra.js';

/**
 * Hyperparameters of the Matérn 5/2 kernel with one length scale per search dimension:
 * k(x, x') = σ² (1 + √5 r + 5r²/3) exp(−√5 r), r² = Σ_c (x_c − x'_c)² / ℓ_{dim(c)}².
 */
export interface KernelHyperparameters {
  lengthScales: Float64Array;
  signalVariance: number;
  noiseVariance: number;
}

export interface GaussianProcessOptions {
  /** For each feature column, the length-scale index it uses (one-hot columns share one). */
  featureDimension: Int32Array;
  /** Starting point for the marginal-likelihood fit (e.g. the previous fit). */
  initial?: KernelHyperparameters;
  /** Gradient steps of the fit. */
  fitIterations?: number;
}

const sqrt5 = Math.sqrt(5);
// Bounds on log hyperparameters, on features scaled to [0, 1] and standardised targets.
const logLengthBounds: [number, number] = [Math.log(0.03), Math.log(20)];
const logSignalBounds: [number, number] = [Math.log(0.05), Math.log(20)];
const logNoiseBounds: [number, number] = [Math.log(1e-6), Math.log(0.5)];
// Weak log-normal prior on length scales keeps the fit sane with few observations.
const lengthPriorMean = Math.log(0.5);
const lengthPriorVariance = 1.5 * 1.5;

/**
 * A Gaussian-process regression model on [0, 1] features with a zero-mean prior on standardised
 * targets. Fitting maximises the log marginal likelihood (plus a weak prior on the length scales)
 * by projected Adam on the log hyperparameters using the analytic gradient
 * ∂L/∂θ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ).
 */
export class GaussianProcess {
  readonly featureCount: number;
  readonly dimensionCount: number;
  private readonly featureDimension: Int32Array;
  private inputs: Float64Array = new Float64Array(0);
  private count = 0;
  private targetMean = 0;
  private targetScale = 1;
  private standardised: Float64Array = new Float64Array(0);
  private factor: Float64Array = new Float64Array(0);
  private alpha: Float64Array = new Float64Array(0);
  hyperparameters: KernelHyperparameters;
  private readonly fitIterations: number;

  constructor(options: GaussianProcessOptions) {
    this.featureDimension = options.featureDimension;
    this.featureCount = options.featureDimension.length;
    this.dimensionCount = options.featureDimension.reduce((max, d) => Math.max(max, d + 1), 0);
    this.fitIterations = options.fitIterations ?? 60;
    this.hyperparameters = options.initial
      ? {
          lengthScales: Float64Array.from(options.initial.lengthScales),
          signalVariance: options.initial.signalVariance,
          noiseVariance: options.initial.noiseVariance,
        }
      : {
          lengthScales: new Float64Array(this.dimensionCount).fill(0.5),
          signalVariance: 1,
          noiseVariance: 1e-3,
        };
  }

  get observationCount(): number {
    return this.count;
  }

  /**
   * Sets the training data (`inputs` row-major n × featureCount) and, when `fit` is true, refits the
   * hyperparameters by maximising the marginal likelihood.
   */
  setData(inputs: Float64Array, targets: ArrayLike<number>, options: { fit?: boolean } = {}): void {
    const n = targets.length;
    this.inputs = inputs;
    this.count = n;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += targets[i]!;
    mean /= Math.max(n, 1);
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (targets[i]! - mean) ** 2;
    variance /= Math.max(n, 1);
    this.targetMean = mean;
    this.targetScale = variance > 1e-24 ? Math.sqrt(variance) : 1;
    this.standardised = new Float64Array(n);
    for (let i = 0; i < n; i++) this.standardised[i] = (targets[i]! - mean) / this.targetScale;
    if (options.fit !== false && n >= 2) this.fit();
    this.factorise();
  }

  /** Adds one observation without refitting hyperparameters or re-standardising (for fantasies). */
  addObservation(features: Float64Array, target: number): void {
    const n = this.count;
    const inputs = new Float64Array((n + 1) * this.featureCount);
    inputs.set(this.inputs);
    inputs.set(features.subarray(0, this.featureCount), n * this.featureCount);
    const standardised = new Float64Array(n + 1);
    standardised.set(this.standardised);
    standardised[n] = (target - this.targetMean) / this.targetScale;
    this.inputs = inputs;
    this.standardised = standardised;
    this.count = n + 1;
    this.factorise();
  }

  /** Posterior mean and standard deviation (in target units) at `features` (one row). */
  predict(features: Float64Array, offset = 0): { mean: number; standardDeviation: number } {
    const n = this.count;
    const { signalVariance } = this.hyperparameters;
    if (n === 0)
      return { mean: this.targetMean, standardDeviation: Math.sqrt(signalVariance) * this.targetScale };
    const crossCovariance = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      crossCovariance[i] =
        signalVariance * matern(this.scaledDistance(this.inputs, i * this.featureCount, features, offset));
    }
    let mean = 0;
    for (let i = 0; i < n; i++) mean += crossCovariance[i]! * this.alpha[i]!;
    const projected = solveLower(this.factor, n, crossCovariance);
    let explained = 0;
    for (let i = 0; i < n; i++) explained += projected[i]! ** 2;
    const variance = Math.max(signalVariance - explained, 1e-12);
    return {
      mean: this.targetMean + mean * this.targetScale,
      standardDeviation: Math.sqrt(variance) * this.targetScale,
    };
  }

  /** Log marginal likelihood of the standardised targets under the current hyperparameters. */
  logMarginalLikelihood(): number {
    return this.evaluate(this.packParameters(), false).value;
  }

  private scaledDistance(a: Float64Array, aOffset: number, b: Float64Array, bOffset: number): number {
    const lengthScales = this.hyperparameters.lengthScales;
    let sum = 0;
    for (let c = 0; c < this.featureCount; c++) {
      const difference = (a[aOffset + c]! - b[bOffset + c]!) / lengthScales[this.featureDimension[c]!]!;
      sum += difference * difference;
    }
    return Math.sqrt(sum);
  }

  private factorise(): void {
    const n = this.count;
    const covariance = this.covariance(this.hyperparameters);
    this.factor = cholesky(covariance, n, { jitter: 1e-9 }).factor;
    this.alpha = choleskySolve(this.factor, n, this.standardised);
  }

  private covariance(hyper: KernelHyperparameters): Float64Array {
    const n = this.count;
    const matrix = new Float64Array(n * n);
    const saved = this.hyperparameters;
    this.hyperparameters = hyper;
    for (let i = 0; i < n; i++) {
      matrix[i * n + i] = hyper.signalVariance + hyper.noiseVariance;
      for (let j = 0; j < i; j++) {
        const value =
          hyper.signalVariance *
          matern(this.scaledDistance(this.inputs, i * this.featureCount, this.inputs, j * this.featureCount));
        matrix[i * n + j] = value;
        matrix[j * n + i] = value;
      }
    }
    this.hyperparameters = saved;
    return matrix;
  }

  private packParameters(): Float64Array {
    const parameters = new Float64Array(this.dimensionCount + 2);
    for (let d = 0; d < this.dimensionCount; d++)
      parameters[d] = Math.log(this.hyperparameters.lengthScales[d]!);
    parameters[this.dimensionCount] = Math.log(this.hyperparameters.signalVariance);
    parameters[this.dimensionCount + 1] = Math.log(this.hyperparameters.noiseVariance);
    return parameters;
  }

  private unpack(parameters: Float64Array): KernelHyperparameters {
    const lengthScales = new Float64Array(this.dimensionCount);
    for (let d = 0; d < this.dimensionCount; d++) lengthScales[d] = Math.exp(parameters[d]!);
    return {
      lengthScales,
      signalVariance: Math.exp(parameters[this.dimensionCount]!),
      noiseVariance: Math.exp(parameters[this.dimensionCount + 1]!),
    };
  }

  /** Penalised log marginal likelihood and (optionally) its gradient in log-parameter space. */
  private evaluate(
    parameters: Float64Array,
    withGradient: boolean,
  ): { value: number; gradient: Float64Array } {
    const n = this.count;
    const D = this.dimensionCount;
    const hyper = this.unpack(parameters);
    const gradient = new Float64Array(D + 2);
    const covariance = this.covariance(hyper);
    let factor: Float64Array;
    try {
      factor = cholesky(covariance, n, { jitter: 1e-9 }).factor;
    } catch {
      return { value: Number.NEGATIVE_INFINITY, gradient };
    }
    const alpha = choleskySolve(factor, n, this.standardised);
    let value = -n * 0.5 * Math.log(2 * Math.PI);
    for (let i = 0; i < n; i++)
      value -= 0.5 * this.standardised[i]! * alpha[i]! + Math.log(factor[i * n + i]!);
    for (let d = 0; d < D; d++) value -= (parameters[d]! - lengthPriorMean) ** 2 / (2 * lengthPriorVariance);
    if (!withGradient) return { value, gradient };

    const inverse = choleskyInverse(factor, n);
    const squared = new Float64Array(D);
    for (let i = 0; i < n; i++) {
      // Diagonal: only σ² and noise contribute.
      const wDiagonal = alpha[i]! * alpha[i]! - inverse[i * n + i]!;
      gradient[D]! += 0.5 * wDiagonal * hyper.signalVariance;
      gradient[D + 1]! += 0.5 * wDiagonal * hyper.noiseVariance;
      for (let j = 0; j < i; j++) {
        const w = alpha[i]! * alpha[j]! - inverse[i * n + j]!;
        squared.fill(0);
        let r2 = 0;
        for (let c = 0; c < this.featureCount; c++) {
          const d = this.featureDimension[c]!;
          const difference =
            (this.inputs[i * this.featureCount + c]! - this.inputs[j * this.featureCount + c]!) /
            hyper.lengthScales[d]!;
          const s = difference * difference;
          squared[d]! += s;
          r2 += s;
        }
        const r = Math.sqrt(r2);
        const decay = Math.exp(-sqrt5 * r);
        const kernel = hyper.signalVariance * (1 + sqrt5 * r + (5 / 3) * r2) * decay;
        // Off-diagonal pairs appear twice in the trace.
        gradient[D]! += w * kernel;
        const lengthFactor = w * hyper.signalVariance * (5 / 3) * (1 + sqrt5 * r) * decay;
        for (let d = 0; d < D; d++) gradient[d]! += lengthFactor * squared[d]!;
      }
    }
    for (let d = 0; d < D; d++) gradient[d]! -= (parameters[d]! - lengthPriorMean) / lengthPriorVariance;
    return { value, gradient };
  }

  private fit(): void {
    const D = this.dimensionCount;
    let parameters: Float64Array = this.packParameters();
    const bounds = (index: number): [number, number] =>
      index < D ? logLengthBounds : index === D ? logSignalBounds : logNoiseBounds;
    const firstMoment = new Float64Array(D + 2);
    const secondMoment = new Float64Array(D + 2);
    const learningRate = 0.1;
    let best = this.evaluate(parameters, false).value;
    let bestParameters: Float64Array = Float64Array.from(parameters);
    for (let step = 1; step <= this.fitIterations; step++) {
      const { value, gradient } = this.evaluate(parameters, true);
      if (value > best) {
        best = value;
        bestParameters = Float64Array.from(parameters);
      }
      if (!Number.isFinite(value)) break;
      const next = new Float64Array(D + 2);
      for (let p = 0; p < D + 2; p++) {
        firstMoment[p] = 0.9 * firstMoment[p]! + 0.1 * gradient[p]!;
        secondMoment[p] = 0.999 * secondMoment[p]! + 0.001 * gradient[p]! ** 2;
        const corrected = firstMoment[p]! / (1 - 0.9 ** step);
        const scale = Math.sqrt(secondMoment[p]! / (1 - 0.999 ** step)) + 1e-8;
        const [low, high] = bounds(p);
        next[p] = Math.min(high, Math.max(low, parameters[p]! + (learningRate * corrected) / scale));
      }
      parameters = next;
    }
    const last = this.evaluate(parameters, false).value;
    if (last > best) bestParameters = parameters;
    this.hyperparameters = this.unpack(bestParameters);
  }
}

/** Matérn 5/2 correlation at scaled distance r. */
export function matern(r: number): number {
  return (1 + sqrt5 * r + (5 / 3) * r * r) * Math.exp(-sqrt5 * r);
}
