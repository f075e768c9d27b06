import type { StepEvent } from '../engine.js';
import type { BillingTotals } from '../status.js';
import type { LineCost } from './batch-line.js';

interface Share {
  gbSeconds: number;
  invocations: number;
  usd: number;
}

/**
 * Splits what the expert functions billed among the requests that caused it. The engine runs one step at
 * a time, so what billing grew by between two step events is that step's bill (every invocation of its
 * MoE layers); it is shared among the step's entries by the tokens each fed (a token goes to top-k experts
 * at every MoE layer whoever sent it). Entries without a tag, and what was billed outside any step (the
 * startup probe), stay unattributed; attributed + unattributed is always the whole bill.
 */
export class CostAttribution {
  private readonly shares = new Map<string, Share>();
  private last: BillingTotals;
  private unattributedShare: Share = { gbSeconds: 0, invocations: 0, usd: 0 };

  constructor(private readonly billing: () => BillingTotals) {
    this.last = billing();
  }

  /** Call with every step event, in order. */
  record(event: Pick<StepEvent, 'entries'>): void {
    const now = this.billing();
    const step: Share = {
      gbSeconds: now.billedGbSeconds - this.last.billedGbSeconds,
      invocations: now.invocations - this.last.invocations,
      usd: now.costUsd - this.last.costUsd,
    };
    this.last = now;
    const tokens = event.entries.reduce((sum, entry) => sum + entry.tokens, 0);
    if (tokens === 0) {
      add(this.unattributedShare, step, 1);
      return;
    }
    for (const entry of event.entries) {
      const fraction = entry.tokens / tokens;
      if (entry.tag === undefined) {
        add(this.unattributedShare, step, fraction);
        continue;
      }
      let share = this.shares.get(entry.tag);
      if (!share) {
        share = { gbSeconds: 0, invocations: 0, usd: 0 };
        this.shares.set(entry.tag, share);
      }
      add(share, step, fraction);
    }
  }

  /** A request's attributed cost, removed from the running set (call once its response is in). */
  take(tag: string): LineCost {
    const share = this.shares.get(tag) ?? { gbSeconds: 0, invocations: 0, usd: 0 };
    this.shares.delete(tag);
    return { billed_gb_seconds: share.gbSeconds, invocations: share.invocations, usd: share.usd };
  }

  /** Billed since the attribution began but not to any request, including what billing grew by since the last step. */
  unattributed(): Share {
    const now = this.billing();
    return {
      gbSeconds: this.unattributedShare.gbSeconds + now.billedGbSeconds - this.last.billedGbSeconds,
      invocations: this.unattributedShare.invocations + now.invocations - this.last.invocations,
      usd: this.unattributedShare.usd + now.costUsd - this.last.costUsd,
    };
  }
}

function add(target: Share, step: Share, fraction: number): void {
  target.gbSeconds += step.gbSeconds * fraction;
  target.invocations += step.invocations * fraction;
  target.usd += step.usd * fraction;
}
