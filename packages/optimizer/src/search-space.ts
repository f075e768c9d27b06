import { type RandomSource, randomInteger, randomNormal } from '@switchyard/core';
import { OptimizerError } from './errors.js';

/** An integer in [min, max]. */
export interface IntegerDimension {
  kind: 'integer';
  name: string;
  min: number;
  max: number;
}
/** Ordered numeric choices, e.g. Lambda memory sizes; neighbours in the list are similar. */
export interface OrdinalDimension {
  kind: 'ordinal';
  name: string;
  values: readonly number[];
}
/** Unordered choices; every pair of values is equally far apart. */
export interface CategoricalDimension {
  kind: 'categorical';
  name: string;
  values: readonly string[];
}
/** A real number in [min, max], optionally searched on a log scale. */
export interface RealDimension {
  kind: 'real';
  name: string;
  min: number;
  max: number;
  log?: boolean;
}
export type Dimension = IntegerDimension | OrdinalDimension | CategoricalDimension | RealDimension;

/** A point of the space, keyed by dimension name. */
export type Point = Record<string, number | string>;

/**
 * A mixed search space. Internally a point is a vector with one entry per dimension: the value for
 * integers and reals, the index of the choice for ordinal and categorical dimensions. For the
 * Gaussian process it is encoded into [0, 1] features (one-hot for categories).
 */
export class SearchSpace {
  readonly dimensions: readonly Dimension[];
  /** Number of encoded features. */
  readonly featureCount: number;
  /** For each encoded feature, the dimension it belongs to. */
  readonly featureDimension: Int32Array;
  /** Number of distinct points, or Infinity when a real dimension is present. */
  readonly size: number;

  constructor(dimensions: readonly Dimension[]) {
    if (dimensions.length === 0) {
      throw new OptimizerError({
        code: 'INVALID_INPUT',
        message: 'a search space needs at least one dimension',
      });
    }
    const names = new Set<string>();
    for (const dimension of dimensions) {
      if (names.has(dimension.name)) {
        throw new OptimizerError({
          code: 'INVALID_INPUT',
          message: `dimension "${dimension.name}" is defined twice`,
        });
      }
      names.add(dimension.name);
      validateDimension(dimension);
    }
    this.dimensions = dimensions;
    const featureDimension: number[] = [];
    let size = 1;
    dimensions.forEach((dimension, index) => {
      const width = dimension.kind === 'categorical' ? dimension.values.length : 1;
      for (let i = 0; i < width; i++) featureDimension.push(index);
      size *= cardinality(dimension);
    });
    this.featureCount = featureDimension.length;
    this.featureDimension = Int32Array.from(featureDimension);
    this.size = size;
  }

  /** A uniformly random internal vector. */
  sample(random: RandomSource): number[] {
    return this.dimensions.map((dimension) => this.sampleDimension(dimension, random));
  }

  sampleDimension(dimension: Dimension, random: RandomSource): number {
    switch (dimension.kind) {
      case 'integer':
        return dimension.min + randomInteger(random, dimension.max - dimension.min + 1);
      case 'ordinal':
      case 'categorical':
        return randomInteger(random, dimension.values.length);
      case 'real':
        if (dimension.log) {
          const low = Math.log(dimension.min);
          return Math.exp(low + random() * (Math.log(dimension.max) - low));
        }
        return dimension.min + random() * (dimension.max - dimension.min);
    }
  }

  /** Every internal vector, in lexicographic order (only for finite spaces). */
  *enumerate(): Generator<number[]> {
    if (!Number.isFinite(this.size)) {
      throw new OptimizerError({
        code: 'INVALID_INPUT',
        message: 'cannot enumerate a space with real dimensions',
      });
    }
    const counts = this.dimensions.map(cardinality);
    const digits = new Array<number>(counts.length).fill(0);
    for (let index = 0; index < this.size; index++) {
      yield digits.map((digit, d) => {
        const dimension = this.dimensions[d]!;
        return dimension.kind === 'integer' ? dimension.min + digit : digit;
      });
      for (let d = counts.length - 1; d >= 0; d--) {
        digits[d]! += 1;
        if (digits[d]! < counts[d]!) break;
        digits[d] = 0;
      }
    }
  }

  /** The values a dimension can take on a grid (reals: `levels` evenly spaced values). */
  gridValues(dimensionIndex: number, levels = 8): number[] {
    const dimension = this.dimensions[dimensionIndex]!;
    switch (dimension.kind) {
      case 'integer':
        return Array.from({ length: dimension.max - dimension.min + 1 }, (_, i) => dimension.min + i);
      case 'ordinal':
      case 'categorical':
        return dimension.values.map((_, i) => i);
      case 'real':
        return Array.from({ length: levels }, (_, i) => {
          const share = levels === 1 ? 0.5 : i / (levels - 1);
          if (dimension.log) {
            const low = Math.log(dimension.min);
            return Math.exp(low + share * (Math.log(dimension.max) - low));
          }
          return dimension.min + share * (dimension.max - dimension.min);
        });
    }
  }

  /** Writes the [0, 1] features of an internal vector into `out` at `offset`. */
  encode(vector: readonly number[], out: Float64Array, offset = 0): void {
    let column = offset;
    this.dimensions.forEach((dimension, d) => {
      const value = vector[d]!;
      switch (dimension.kind) {
        case 'integer':
          out[column++] =
            dimension.max === dimension.min ? 0 : (value - dimension.min) / (dimension.max - dimension.min);
          break;
        case 'ordinal':
          out[column++] = dimension.values.length === 1 ? 0 : value / (dimension.values.length - 1);
          break;
        case 'categorical':
          for (let i = 0; i < dimension.values.length; i++) out[column++] = i === value ? 1 : 0;
          break;
        case 'real':
          out[column++] = dimension.log
            ? (Math.log(value) - Math.log(dimension.min)) /
              (Math.log(dimension.max) - Math.log(dimension.min))
            : (value - dimension.min) / (dimension.max - dimension.min);
          break;
      }
    });
  }

  /** The user-facing point of an internal vector. */
  toPoint(vector: readonly number[]): Point {
    const point: Point = {};
    this.dimensions.forEach((dimension, d) => {
      const value = vector[d]!;
      point[dimension.name] =
        dimension.kind === 'ordinal' || dimension.kind === 'categorical' ? dimension.values[value]! : value;
    });
    return point;
  }

  /** The internal vector of a user-facing point; throws INVALID_INPUT naming the bad dimension. */
  fromPoint(point: Point): number[] {
    return this.dimensions.map((dimension) => {
      const value = point[dimension.name];
      const fail = (why: string): never => {
        throw new OptimizerError({
          code: 'INVALID_INPUT',
          message: `${why} (got ${JSON.stringify(value)})`,
          location: `point.${dimension.name}`,
        });
      };
      switch (dimension.kind) {
        case 'integer':
          if (
            typeof value !== 'number' ||
            !Number.isInteger(value) ||
            value < dimension.min ||
            value > dimension.max
          )
            fail(`expected an integer in [${dimension.min}, ${dimension.max}]`);
          return value as number;
        case 'ordinal': {
          const index = dimension.values.indexOf(value as number);
          if (index < 0) fail(`expected one of ${dimension.values.join(', ')}`);
          return index;
        }
        case 'categorical': {
          const index = dimension.values.indexOf(value as string);
          if (index < 0) fail(`expected one of ${dimension.values.join(', ')}`);
          return index;
        }
        case 'real':
          if (typeof value !== 'number' || !(value >= dimension.min && value <= dimension.max))
            fail(`expected a number in [${dimension.min}, ${dimension.max}]`);
          return value as number;
      }
      return fail('unknown dimension kind');
    });
  }

  /** A stable key for de-duplicating discrete points. */
  key(vector: readonly number[]): string {
    return vector.join(',');
  }

  /**
   * Points one step away in one dimension: ±1 for integers and ordered choices, every other
   * category, and two jitters (5 % of the range, normal) for reals.
   */
  neighbours(vector: readonly number[], random: RandomSource): number[][] {
    const result: number[][] = [];
    this.dimensions.forEach((dimension, d) => {
      const push = (value: number): void => {
        const next = [...vector];
        next[d] = value;
        result.push(next);
      };
      switch (dimension.kind) {
        case 'integer':
          if (vector[d]! > dimension.min) push(vector[d]! - 1);
          if (vector[d]! < dimension.max) push(vector[d]! + 1);
          break;
        case 'ordinal':
          if (vector[d]! > 0) push(vector[d]! - 1);
          if (vector[d]! < dimension.values.length - 1) push(vector[d]! + 1);
          break;
        case 'categorical':
          for (let i = 0; i < dimension.values.length; i++) if (i !== vector[d]) push(i);
          break;
        case 'real':
          for (let k = 0; k < 2; k++) {
            const width = dimension.log
              ? Math.log(dimension.max / dimension.min)
              : dimension.max - dimension.min;
            const step = 0.05 * width * randomNormal(random);
            const raw = dimension.log ? vector[d]! * Math.exp(step) : vector[d]! + step;
            push(Math.min(dimension.max, Math.max(dimension.min, raw)));
          }
          break;
      }
    });
    return result;
  }
}

/** Number of values a dimension takes (Infinity for reals). */
export function cardinality(dimension: Dimension): number {
  switch (dimension.kind) {
    case 'integer':
      return dimension.max - dimension.min + 1;
    case 'ordinal':
    case 'categorical':
      return dimension.values.length;
    case 'real':
      return Number.POSITIVE_INFINITY;
  }
}

function validateDimension(dimension: Dimension): void {
  const fail = (why: string): never => {
    throw new OptimizerError({
      code: 'INVALID_INPUT',
      message: why,
      location: `dimension ${dimension.name}`,
    });
  };
  switch (dimension.kind) {
    case 'integer':
      if (
        !Number.isInteger(dimension.min) ||
        !Number.isInteger(dimension.max) ||
        dimension.max < dimension.min
      )
        fail('integer dimension needs integer min ≤ max');
      break;
    case 'ordinal':
      if (dimension.values.length === 0) fail('ordinal dimension needs at least one value');
      for (let i = 1; i < dimension.values.length; i++)
        if (!(dimension.values[i]! > dimension.values[i - 1]!))
          fail('ordinal values must be strictly increasing');
      break;
    case 'categorical':
      if (dimension.values.length === 0) fail('categorical dimension needs at least one value');
      if (new Set(dimension.values).size !== dimension.values.length)
        fail('categorical values must be distinct');
      break;
    case 'real':
      if (!(dimension.max > dimension.min)) fail('real dimension needs min < max');
      if (dimension.log && !(dimension.min > 0)) fail('a log-scale dimension needs min > 0');
      break;
  }
}
