/** Output kept up to a cap, counting what was dropped, so results can say they were truncated. */
export class Capture {
  readonly #chunks: Buffer[] = [];
  readonly #cap: number;
  #kept = 0;
  #total = 0;

  constructor(cap: number) {
    this.#cap = cap;
  }

  readonly add = (chunk: Buffer): void => {
    this.#total += chunk.length;
    const room = this.#cap - this.#kept;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.#chunks.push(kept);
    this.#kept += kept.length;
  };

  /** Bytes seen in all. */
  get total(): number {
    return this.#total;
  }

  get truncated(): boolean {
    return this.#total > this.#kept;
  }

  bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  /** The kept bytes as UTF-8 (a character cut by the cap becomes U+FFFD). */
  text(): string {
    return this.bytes().toString('utf8');
  }
}

/** `bytes` as UTF-8 when it is valid UTF-8, else undefined. */
export function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
