import {
  type CpuPricing,
  type CpuTrafficCost,
  perMillionTokens,
  type ResolvedCpuTrafficOptions,
  sumWork,
} from './cpu-baselines-options.js';
import { FluidQueue } from './cpu-baselines-queue.js';
import { CostModelError } from './errors.js';
import type { Traffic } from './traffic.js';
import { summarizeWaits } from './traffic-batches.js';

interface Instance {
  launchS: number;
  readyS: number;
  /** Set when terminated. */
  endS?: number;
  /** Running before the window opened (a window cut from a running service): no minimum applies. */
  preexisting: boolean;
}

/**
 * The autoscaled cluster's event simulation (architecture/traffic.md, "Autoscaled cluster"). Events in
 * time order — boot completions, arrivals, window end, decisions — drive a FluidQueue whose capacity
 * is the serving instances' vCPUs. At the same instant: boots, then arrivals, then the decision (an
 * arrival at a decision time belongs to the interval the decision looks back on).
 */
export function autoscaledCpuClusterResolved(
  traffic: Traffic,
  work: Float64Array,
  options: ResolvedCpuTrafficOptions,
  pricing: CpuPricing,
  maxInstances: number,
): CpuTrafficCost {
  const { decisionIntervalS, bootDelayS, scaleInWindowS } = options.autoscaling;
  // The ceiling bounds the floor too: the autoscaled fleet never holds more than the static cluster.
  const minInstances = Math.min(options.autoscaling.minInstances, maxInstances);
  const vcpus = pricing.vcpusPerInstance;
  const target = options.targetUtilization;
  const count = traffic.arrivalS.length;
  const durationS = traffic.durationS;
  const clamp = (wanted: number) => Math.min(maxInstances, Math.max(minInstances, wanted));
  const wantedFor = (vcpusNeeded: number) => clamp(Math.ceil(vcpusNeeded / (vcpus * target) - 1e-9));

  // The window is cut from a running service: the fleet at 0 is what the policy would hold for the
  // first interval's load, already serving.
  let firstIntervalWork = 0;
  for (let i = 0; i < count && traffic.arrivalS[i]! < decisionIntervalS; i++) firstIntervalWork += work[i]!;
  const instances: Instance[] = [];
  const initial = wantedFor(firstIntervalWork / decisionIntervalS);
  for (let n = 0; n < initial; n++) instances.push({ launchS: 0, readyS: 0, preexisting: true });
  const queue = new FluidQueue(initial * vcpus);
  const alive = (): Instance[] => instances.filter((instance) => instance.endS === undefined);
  let servingCount = initial;
  // Ready times of booting instances, in launch order (the boot delay is constant, so also in ready order).
  let booting: Instance[] = [];
  const wishes: Array<{ atS: number; instances: number }> = [{ atS: 0, instances: initial }];
  let launches = 0;
  let arrivedVcpuS = 0;
  const ahead = new Float64Array(count);
  let next = 0;
  let nextDecisionS = decisionIntervalS;
  let horizonS = durationS;
  const eligibleToStop = (instance: Instance, now: number) =>
    instance.preexisting || now - instance.launchS >= pricing.minimumBilledS - 1e-9;

  const decide = (now: number) => {
    const vcpusNeeded = arrivedVcpuS / decisionIntervalS + queue.backlogVcpuS / decisionIntervalS;
    arrivedVcpuS = 0;
    const wanted = wantedFor(vcpusNeeded);
    wishes.push({ atS: now, instances: wanted });
    while (wishes.length > 1 && now - wishes[0]!.atS >= scaleInWindowS) wishes.shift();
    const running = alive();
    if (wanted > running.length) {
      for (let n = running.length; n < wanted; n++) {
        const instance: Instance = { launchS: now, readyS: now + bootDelayS, preexisting: false };
        instances.push(instance);
        if (bootDelayS > 0) booting.push(instance);
        else servingCount++;
        launches++;
      }
    } else {
      const keep = Math.max(wanted, ...wishes.map((wish) => wish.instances));
      let surplus = running.length - keep;
      // Booting instances first (no capacity lost), then the youngest serving ones.
      const candidates = [...running].sort(
        (a, b) => Number(a.readyS <= now) - Number(b.readyS <= now) || b.launchS - a.launchS,
      );
      for (const instance of candidates) {
        if (surplus <= 0) break;
        if (!eligibleToStop(instance, now)) continue;
        instance.endS = now;
        if (instance.readyS <= now) servingCount--;
        surplus--;
      }
      booting = booting.filter((instance) => instance.endS === undefined);
    }
    queue.setCapacity(servingCount * vcpus);
  };

  for (let guard = 0; ; guard++) {
    if (guard > 50_000_000)
      throw new CostModelError({
        code: 'INTERNAL',
        message: 'autoscaled CPU cluster: simulation did not finish',
      });
    const nextArrivalS = next < count ? traffic.arrivalS[next]! : Number.POSITIVE_INFINITY;
    const nextBootS = booting.length > 0 ? booting[0]!.readyS : Number.POSITIVE_INFINITY;
    const windowEndS = queue.nowS < durationS ? durationS : Number.POSITIVE_INFINITY;
    const eventS = Math.min(nextArrivalS, nextBootS, nextDecisionS, windowEndS);
    if (next >= count) {
      // No arrivals left: stop once past the window with nothing waiting.
      const drainedS = queue.drainS();
      if (drainedS >= durationS && drainedS <= eventS) {
        queue.advance(drainedS);
        horizonS = drainedS;
        break;
      }
    }
    queue.advance(eventS);
    while (booting.length > 0 && booting[0]!.readyS <= eventS) {
      booting.shift();
      servingCount++;
    }
    queue.setCapacity(servingCount * vcpus);
    while (next < count && traffic.arrivalS[next]! <= eventS) {
      ahead[next] = queue.arrive(work[next]!);
      arrivedVcpuS += work[next]!;
      next++;
    }
    if (eventS >= nextDecisionS) {
      decide(eventS);
      nextDecisionS += decisionIntervalS;
    }
  }

  const waits = queue.waitsS(traffic.arrivalS, ahead);
  let billedInstanceS = 0;
  let bootingInstanceS = 0;
  let shortestLifetimeS: number | undefined;
  let maxAlive = 0;
  for (const instance of instances) {
    const endS = instance.endS ?? horizonS;
    const lifeS = endS - instance.launchS;
    // Terminated inside the evaluation: EC2 rounds up to its granularity and bills at least the
    // minimum (the policy never stops an instance earlier, so the minimum is a guard). Still running
    // at the end: billed to the end — it carries on into the next window.
    const billedS =
      instance.endS === undefined || instance.preexisting
        ? lifeS
        : Math.max(
            pricing.minimumBilledS,
            Math.ceil(lifeS / pricing.billingGranularityS - 1e-9) * pricing.billingGranularityS,
          );
    billedInstanceS += billedS;
    if (instance.endS !== undefined && !instance.preexisting)
      shortestLifetimeS = Math.min(shortestLifetimeS ?? Number.POSITIVE_INFINITY, lifeS);
    bootingInstanceS += Math.max(0, Math.min(instance.readyS, endS) - instance.launchS);
  }
  // Most instances billed at once: sweep launches and ends.
  const changes = instances
    .flatMap((instance) => [
      { atS: instance.launchS, delta: 1 },
      { atS: instance.endS ?? Number.POSITIVE_INFINITY, delta: -1 },
    ])
    .sort((a, b) => a.atS - b.atS || a.delta - b.delta);
  let current = 0;
  for (const change of changes) {
    current += change.delta;
    maxAlive = Math.max(maxAlive, current);
  }
  const busy = sumWork(work);
  const billedVcpuSeconds = billedInstanceS * vcpus;
  const usd = (billedInstanceS * pricing.usdPerInstanceHour) / 3600;
  const a = options.autoscaling;
  return {
    name: 'autoscaled',
    usd,
    usdPerMillionTokens: perMillionTokens(usd, traffic),
    busyVcpuSeconds: busy,
    billedVcpuSeconds,
    utilization: billedVcpuSeconds > 0 ? busy / billedVcpuSeconds : 0,
    maxInstances: maxAlive,
    meanInstances: horizonS > 0 ? billedInstanceS / horizonS : 0,
    launches,
    horizonS,
    bootingVcpuSeconds: bootingInstanceS * vcpus,
    ...(shortestLifetimeS === undefined ? {} : { shortestLifetimeS }),
    wait: summarizeWaits(waits),
    description: `${pricing.description}, ${minInstances}–${maxInstances} instances, decisions every ${a.decisionIntervalS} s at ${Math.round(target * 100)} % target, ${a.bootDelayS} s boot, scale-in after ${a.scaleInWindowS} s, EC2 per-${pricing.billingGranularityS} s billing with a ${pricing.minimumBilledS} s minimum (${options.engine} at ${options.tokensPerVcpuSecond} tokens/s per vCPU)`,
  };
}
