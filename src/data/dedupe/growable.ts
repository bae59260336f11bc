/** An append-only uint32 buffer that doubles as it grows; `view()` is the filled prefix (no copy). */
export class GrowableUint32 {
  private data: Uint32Array;
  length = 0;

  constructor(initial = 1024) {
    this.data = new Uint32Array(Math.max(16, initial));
  }

  private ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint32Array(size);
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }

  push(value: number): void {
    if (this.length === this.data.length) this.ensure(1);
    this.data[this.length++] = value;
  }

  append(values: Uint32Array): void {
    this.ensure(values.length);
    this.data.set(values, this.length);
    this.length += values.length;
  }

  get(i: number): number {
    return this.data[i];
  }

  view(start = 0, end = this.length): Uint32Array {
    return this.data.subarray(start, end);
  }
}

/** Same for float32 values (edge similarities). */
export class GrowableFloat32 {
  private data = new Float32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  get(i: number): number {
    return this.data[i];
  }
}
