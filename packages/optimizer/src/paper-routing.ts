import { createRandom, type RandomSource } from '@switchyard/core';
import { OptimizerError } from './errors.js';
import { popularityFromCounts } from './paper-shapes.js';

/** Published per-expert selection counts of one text domain: `layers[sourceLayer][expert]`. */
export interface RoutingDomain {
  name: string;
  layers: readonly (readonly number[])[];
}

/** One batch's tokens per MoE layer × expert, and the domain its text came from. */
export interface RoutedBatch {
  domain: string;
  loads: number[][];
}

export interface PaperRoutingOptions {
  domains: readonly RoutingDomain[];
  /** Domains the calibration trace is drawn from (what every planner sees). */
  calibrationDomains: readonly string[];
  /** Domains the held-out batches are drawn from (default: every domain). */
  heldOutDomains?: readonly string[];
  numLayers: number;
  numExperts: number;
  topK: number;
  tokensPerBatch: number;
  calibrationBatchesPerDomain?: number;
  heldOutBatchesPerDomain?: number;
  seed?: number;
}

export interface PaperRouting {
  /** Per domain, the model's per-layer expert shares (a seeded subset of the source's experts). */
  shares: Record<string, number[][]>;
  calibration: RoutedBatch[];
  heldOut: RoutedBatch[];
}

/**
 * Calibration and held-out batches for a paper shape from published per-domain routing counts
 * (architecture/paper-benchmark.md). Model layer l takes source layer l mod S and one seeded subset of
 * E source experts, the same in every domain; a batch of a domain is a multinomial draw of
 * tokensPerBatch × topK selections from that domain's shares. Calibration and held-out batches come
 * from different random streams, so no held-out batch is a calibration batch.
 */
export function paperRouting(options: PaperRoutingOptions): PaperRouting {
  const seed = options.seed ?? 0;
  const byName = new Map(options.domains.map((domain) => [domain.name, domain]));
  const sourceExperts = options.domains[0]?.layers[0]?.length ?? 0;
  for (const domain of options.domains) {
    if (domain.layers.length === 0 || domain.layers.some((layer) => layer.length !== sourceExperts))
      throw new OptimizerError({
        code: 'INVALID_INPUT',
        message: `domain "${domain.name}" must have at least one layer, each of ${sourceExperts} expert counts (as the first domain)`,
        location: `domains.${domain.name}`,
      });
  }
  const shares: Record<string, number[][]> = {};
  for (const domain of options.domains) {
    // Same seed and layer sizes in every domain: popularityFromCounts picks the same experts.
    const counts = popularityFromCounts(domain.layers, {
      numLayers: options.numLayers,
      numExperts: options.numExperts,
      seed,
    });
    counts.forEach((layer, l) => {
      if (!(layer.reduce((sum, c) => sum + c, 0) > 0))
        throw new OptimizerError({
          code: 'INVALID_INPUT',
          message: `domain "${domain.name}": the experts chosen for layer ${l} were never selected`,
          location: `domains.${domain.name}`,
        });
    });
    shares[domain.name] = counts;
  }
  const pick = (names: readonly string[], what: string) =>
    names.map((name) => {
      if (!byName.has(name))
        throw new OptimizerError({
          code: 'INVALID_INPUT',
          message: `${what} domain "${name}" is not among ${[...byName.keys()].join(', ')}`,
          location: what,
        });
      return name;
    });
  const calibrationDomains = pick(options.calibrationDomains, 'calibrationDomains');
  const heldOutDomains = pick(options.heldOutDomains ?? [...byName.keys()], 'heldOutDomains');
  if (calibrationDomains.length === 0)
    throw new OptimizerError({
      code: 'INVALID_INPUT',
      message: 'at least one calibration domain is needed',
      location: 'calibrationDomains',
    });
  const selections = options.tokensPerBatch * options.topK;
  const draw = (names: string[], perDomain: number, random: RandomSource): RoutedBatch[] => {
    const batches: RoutedBatch[] = [];
    // Round-robin over the domains, so every prefix of the list mixes them.
    for (let b = 0; b < perDomain; b++)
      for (const name of names)
        batches.push({
          domain: name,
          loads: shares[name]!.map((layer) => multinomialDraw(layer, selections, random)),
        });
    return batches;
  };
  return {
    shares,
    calibration: draw(
      calibrationDomains,
      options.calibrationBatchesPerDomain ?? 8,
      createRandom(seed ^ 0xca1b),
    ),
    heldOut: draw(heldOutDomains, options.heldOutBatchesPerDomain ?? 8, createRandom(seed ^ 0x4e1d)),
  };
}

/** `count` categorical draws from non-negative `weights` (normalised here), as counts per category. */
export function multinomialDraw(weights: readonly number[], count: number, random: RandomSource): number[] {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((weight, i) => {
    total += weight;
    cumulative[i] = total;
  });
  const counts = new Array<number>(weights.length).fill(0);
  if (!(total > 0)) return counts;
  for (let n = 0; n < count; n++) {
    const u = random() * total;
    let low = 0;
    let high = weights.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cumulative[mid]! > u) high = mid;
      else low = mid + 1;
    }
    counts[low]! += 1;
  }
  return counts;
}
