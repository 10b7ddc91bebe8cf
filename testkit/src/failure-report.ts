/**
 * What a failing test wants read beside its assertion: the peers' logs. A
 * long suite's failure is found from CI's summary, which shows only the end of
 * the run, so `./scripts/test.sh` sets `PARLEY_FAILURE_LOG` to a file whose
 * text it prints in that summary; without it (a test run by hand) the text goes
 * to stderr.
 */
import { appendFileSync } from 'node:fs';

/** Keeps `sections` (each a peer's `describe()`) under `title` for the run's summary. */
export function reportFailure(title: string, sections: readonly (string | undefined)[]): void {
  const text = `--- ${title}\n${sections.filter((s) => s !== undefined).join('\n')}\n`;
  const file = process.env['PARLEY_FAILURE_LOG'];
  if (file) appendFileSync(file, text);
  else process.stderr.write(text);
}
