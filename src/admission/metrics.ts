/**
 * The webhook's Prometheus text exposition: decisions by result and rule, review latency, trust-cache hits,
 * requests in flight. Small on purpose: counters and one histogram, no client library.
 */

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export class AdmissionMetrics {
  private readonly decisions = new Map<string, number>();
  private readonly reviews = new Map<string, number>();
  private readonly buckets = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  private latencySum = 0;
  private latencyCount = 0;
  inFlight = 0;
  cacheHits = 0;
  cacheMisses = 0;
  reloads = { ok: 0, failed: 0 };

  /** One image decision: result is allow, deny, warn or error. */
  decision(result: string, rule: string): void {
    const key = `${result}\u0000${rule}`;
    this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
  }

  /** One review answered: code is the HTTP status, allowed whether the review was allowed. */
  review(code: number, allowed: boolean | undefined, seconds: number): void {
    const key = `${code}\u0000${allowed === undefined ? '' : String(allowed)}`;
    this.reviews.set(key, (this.reviews.get(key) ?? 0) + 1);
    this.latencySum += seconds;
    this.latencyCount++;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]!) this.buckets[i]!++;
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP notary_ts_admission_decisions_total Image decisions by result and policy rule.');
    out.push('# TYPE notary_ts_admission_decisions_total counter');
    for (const [key, n] of this.decisions) {
      const [result, rule] = key.split('\u0000') as [string, string];
      out.push(`notary_ts_admission_decisions_total{result="${labelValue(result)}",rule="${labelValue(rule)}"} ${n}`);
    }
    out.push('# HELP notary_ts_admission_reviews_total AdmissionReview requests answered, by HTTP status and outcome.');
    out.push('# TYPE notary_ts_admission_reviews_total counter');
    for (const [key, n] of this.reviews) {
      const [code, allowed] = key.split('\u0000') as [string, string];
      out.push(`notary_ts_admission_reviews_total{code="${code}",allowed="${allowed}"} ${n}`);
    }
    out.push('# HELP notary_ts_admission_review_duration_seconds Time to answer an AdmissionReview.');
    out.push('# TYPE notary_ts_admission_review_duration_seconds histogram');
    LATENCY_BUCKETS.forEach((le, i) => out.push(`notary_ts_admission_review_duration_seconds_bucket{le="${le}"} ${this.buckets[i]}`));
    out.push(`notary_ts_admission_review_duration_seconds_bucket{le="+Inf"} ${this.latencyCount}`);
    out.push(`notary_ts_admission_review_duration_seconds_sum ${this.latencySum}`);
    out.push(`notary_ts_admission_review_duration_seconds_count ${this.latencyCount}`);
    out.push('# HELP notary_ts_trust_cache_hits_total Decisions answered from trust data already verified in memory.');
    out.push('# TYPE notary_ts_trust_cache_hits_total counter');
    out.push(`notary_ts_trust_cache_hits_total ${this.cacheHits}`);
    out.push('# HELP notary_ts_trust_cache_misses_total Decisions that ran Notary\'s update workflow.');
    out.push('# TYPE notary_ts_trust_cache_misses_total counter');
    out.push(`notary_ts_trust_cache_misses_total ${this.cacheMisses}`);
    out.push('# HELP notary_ts_admission_in_flight Reviews being answered now.');
    out.push('# TYPE notary_ts_admission_in_flight gauge');
    out.push(`notary_ts_admission_in_flight ${this.inFlight}`);
    out.push('# HELP notary_ts_policy_reloads_total Policy file reloads by outcome.');
    out.push('# TYPE notary_ts_policy_reloads_total counter');
    out.push(`notary_ts_policy_reloads_total{result="ok"} ${this.reloads.ok}`);
    out.push(`notary_ts_policy_reloads_total{result="failed"} ${this.reloads.failed}`);
    return out.join('\n') + '\n';
  }
}
