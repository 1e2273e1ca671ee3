// Bytes per second over a sliding window (repair throughput for status and metrics).
export class Throughput {
  private readonly samples: { at: number; bytes: number }[] = [];
  total = 0;

  constructor(private readonly windowMs: number) {}

  add(at: number, bytes: number): void {
    if (bytes <= 0) return;
    this.samples.push({ at, bytes });
    this.total += bytes;
    this.trim(at);
  }

  rate(now: number): number {
    this.trim(now);
    const sum = this.samples.reduce((s, x) => s + x.bytes, 0);
    return sum / (this.windowMs / 1000);
  }

  private trim(now: number): void {
    while (this.samples.length > 0 && (this.samples[0]?.at ?? now) < now - this.windowMs) this.samples.shift();
  }
}
