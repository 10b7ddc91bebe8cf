/**
 * A test gateway's log, kept in memory: its last lines, printed (through
 * testkit's `reportFailure`) when a test fails, so that a rare failure in a
 * long run can be read from the run's summary. Set up in
 * `report-on-failure.ts` (the protocol and e2e projects' setup file); the
 * rings of live gateways are found through a global registry, so the harness
 * loaded under another module id (`@parley/gateway/test-harness`) shares it.
 */
const REGISTRY = Symbol.for('parley.test.logRings');

function registry(): Set<LogRing> {
  const holder = globalThis as { [REGISTRY]?: Set<LogRing> };
  return (holder[REGISTRY] ??= new Set<LogRing>());
}

export class LogRing {
  readonly name: string;
  readonly #max: number;
  readonly #lines: string[] = [];

  constructor(name: string, max = 400) {
    this.name = name;
    this.#max = max;
    registry().add(this);
  }

  /** pino's destination: one JSON line per call. */
  write(line: string): void {
    this.#lines.push(line.endsWith('\n') ? line.slice(0, -1) : line);
    if (this.#lines.length > this.#max) this.#lines.splice(0, this.#lines.length - this.#max);
  }

  describe(): string {
    return `[${this.name}] last ${this.#lines.length} log lines:\n${this.#lines.join('\n')}`;
  }

  close(): void {
    registry().delete(this);
  }
}

/** The rings of the gateways running now. */
export function liveLogRings(): LogRing[] {
  return [...registry()];
}
