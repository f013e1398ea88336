/**
 * A byte limit for a download that starts before its parent has stated its length: provisional (a read
 * that reaches it pauses, holding at most this much) until `settle` gives the parent's length.
 */
export class ReadLimit {
  private waiters: (() => void)[] = [];
  private current: number;
  private isFinal = false;

  constructor(provisional: number) {
    this.current = provisional;
  }

  get bytes(): number {
    return this.current;
  }

  get final(): boolean {
    return this.isFinal;
  }

  settle(bytes: number): void {
    this.current = bytes;
    this.isFinal = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  settled(): Promise<void> {
    return this.isFinal ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
