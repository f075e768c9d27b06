import type { DeploymentPlan } from '@switchyard/core';

/** How a new plan's functions relate to the serving plan's. */
export interface FunctionNaming {
  /** The new plan, its functions named as below. */
  plan: DeploymentPlan;
  /** Function names (replicas) that exist in both plans and hold the same experts: their `live` moves. */
  kept: string[];
  /** Function names only the new plan has: created. */
  created: string[];
  /** Function names only the serving plan has: deleted once nothing uses them. */
  removed: string[];
}

const sortedKey = (experts: readonly number[]): string => [...experts].sort((x, y) => x - y).join(',');

/**
 * Names a new plan's functions after the serving plan's, so that a rollout moves aliases instead of
 * renaming: a group of experts the serving plan already has (same layer, same experts) keeps its
 * function names — a replica beyond the serving plan's gets the next `-r<n>` — and so keeps its
 * functions, whose `live` alias moves to the new configuration's version. A new group keeps the
 * planner's name unless that name belongs to a serving function holding other experts (a function
 * answers only for the experts its code holds, so one name can never mean two groups at once); then
 * it gets `-g<generation>`. Functions of groups the new plan no longer has are `removed`.
 */
export function keepFunctionNames(
  serving: DeploymentPlan,
  planned: DeploymentPlan,
  generation: number,
): FunctionNaming {
  const servingNames = new Set(
    serving.layers.flatMap((layer) => layer.functions.flatMap((fn) => [fn.name, ...fn.functionNames])),
  );
  const kept: string[] = [];
  const created: string[] = [];
  const used = new Set<string>();
  const plan: DeploymentPlan = {
    ...planned,
    layers: planned.layers.map((layer) => {
      const servingLayer = serving.layers.find((candidate) => candidate.layer === layer.layer);
      return {
        ...layer,
        functions: layer.functions.map((fn) => {
          const key = sortedKey(fn.experts);
          const match = servingLayer?.functions.find((candidate) => sortedKey(candidate.experts) === key);
          if (match) {
            const functionNames = Array.from(
              { length: fn.replicas },
              (_, r) => match.functionNames[r] ?? `${match.name}-r${r}`,
            );
            for (const name of functionNames) {
              (match.functionNames.includes(name) ? kept : created).push(name);
              used.add(name);
            }
            return { ...fn, name: match.name, functionNames };
          }
          const suffix = `-g${generation}`;
          const replicaNames = (base: string) =>
            Array.from({ length: fn.replicas }, (_, r) => `${base}-r${r}`);
          const collides = [fn.name, ...replicaNames(fn.name)].some((name) => servingNames.has(name));
          const name = collides ? `${fn.name.slice(0, 64 - suffix.length - 4)}${suffix}` : fn.name;
          const functionNames = replicaNames(name);
          for (const functionName of functionNames) {
            created.push(functionName);
            used.add(functionName);
          }
          return { ...fn, name, functionNames };
        }),
      };
    }),
  };
  const removed = serving.layers.flatMap((layer) =>
    layer.functions.flatMap((fn) => fn.functionNames.filter((name) => !used.has(name))),
  );
  return { plan, kept, created, removed };
}

/**
 * The part of `plan` made of exactly these function names (a rollout's `removed`), as a plan that
 * `undeployPlan(…, { onlyPlanFunctions: true })` deletes; undefined when none of its functions is
 * named.
 */
export function planOfFunctions(
  plan: DeploymentPlan,
  functionNames: readonly string[],
): DeploymentPlan | undefined {
  const wanted = new Set(functionNames);
  const layers = plan.layers.flatMap((layer) => {
    const functions = layer.functions.flatMap((fn) => {
      const names = fn.functionNames.filter((name) => wanted.has(name));
      return names.length > 0 ? [{ ...fn, replicas: names.length, functionNames: names }] : [];
    });
    // Each expert those functions hold points at the first of them that holds it.
    const experts = layer.experts.flatMap((entry) => {
      const functionIndex = functions.findIndex((fn) => fn.experts.includes(entry.expert));
      return functionIndex >= 0 ? [{ ...entry, functionIndex }] : [];
    });
    return functions.length > 0 ? [{ ...layer, functions, experts }] : [];
  });
  return layers.length > 0 ? { ...plan, layers } : undefined;
}
