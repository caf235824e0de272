/**
 * Policies: the vendor's licence templates (term, seat model, machine limit, overage, heartbeat, offline grace).
 * Few rows, read on every validation: kept in memory, reloaded after a write on this node and at most
 * `ttlMs` later on the others.
 */
import type { Clock } from '../../platform/clock.ts';
import { licensingErrors } from './errors.ts';
import type { LicenseDirectory } from './repo.ts';
import type { Policy } from './schemas.ts';
import type { LicensePoliciesTable, OverageStrategy } from './tables.ts';

export const DEFAULT_POLICY_ID = 'standard';

export function policyOf(row: LicensePoliciesTable): Policy {
  return {
    id: row.id,
    name: row.name,
    durationDays: row.duration_days === null ? null : Number(row.duration_days),
    seatModel: row.seat_model,
    maxMachinesPerUser: row.max_machines_per_user === null ? null : Number(row.max_machines_per_user),
    overage: row.overage,
    heartbeatIntervalS: Number(row.heartbeat_interval_s),
    offlineGraceS: Number(row.offline_grace_s),
  };
}

/** The most a limit allows under an overage strategy (reject: the limit itself). */
export function withOverage(limit: number, overage: OverageStrategy): number {
  if (overage === 'allow_2x') return limit * 2;
  if (overage === 'allow_1_25x') return Math.floor(limit * 1.25);
  return limit;
}

/** A machine is alive while it has sent a heartbeat within two intervals (one missed beat is tolerated). */
export function aliveSince(policy: Policy, now: number): number {
  return now - 2 * policy.heartbeatIntervalS * 1000;
}

export class PolicyBook {
  private cache: { at: number; byId: Map<string, Policy> } | undefined;
  private loading: Promise<Map<string, Policy>> | undefined;

  constructor(
    private readonly directory: LicenseDirectory,
    private readonly clock: Clock,
    private readonly ttlMs = 30_000,
  ) {}

  private async load(): Promise<Map<string, Policy>> {
    const now = this.clock.now().getTime();
    if (this.cache && now - this.cache.at < this.ttlMs) return this.cache.byId;
    this.loading ??= this.directory
      .policies()
      .then((rows) => {
        const byId = new Map(rows.map((r) => [r.id, policyOf(r)]));
        this.cache = { at: now, byId };
        return byId;
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  async all(): Promise<Policy[]> {
    return [...(await this.load()).values()];
  }

  async get(id: string): Promise<Policy> {
    const p = (await this.load()).get(id);
    if (p) return p;
    this.cache = undefined;
    const again = (await this.load()).get(id);
    if (!again) throw licensingErrors.unknownPolicy(id);
    return again;
  }

  async create(policy: Policy): Promise<Policy> {
    if ((await this.load()).has(policy.id)) throw licensingErrors.policyExists(policy.id);
    await this.directory.insertPolicy({
      id: policy.id,
      name: policy.name,
      duration_days: policy.durationDays,
      seat_model: policy.seatModel,
      max_machines_per_user: policy.maxMachinesPerUser,
      overage: policy.overage,
      heartbeat_interval_s: policy.heartbeatIntervalS,
      offline_grace_s: policy.offlineGraceS,
      created_at: this.clock.now().getTime(),
    });
    this.cache = undefined;
    return policy;
  }
}
