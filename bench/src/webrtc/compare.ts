/**
 * The systems of one concurrency run side by side (Parley on mediasoup, on its
 * relay engine, Janus), and the ratios the issue asks for: Parley over Janus
 * for CPU per call, RSS per call and in all, INVITE → 200, answer → first audio.
 */
import type { ConcurrencyResult, StepResult } from './concurrent-types.js';
import { mb, ms } from './measure.js';

const row = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
const ratio = (a: number, b: number): string =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–';

function stepOf(c: ConcurrencyResult, target: number): StepResult | undefined {
  return c.steps.find((s) => s.target === target);
}

export function comparison(results: readonly ConcurrencyResult[]): string[] {
  const out: string[] = ['### Parley and Janus in one run', ''];
  const targets = [...new Set(results.flatMap((c) => c.steps.map((s) => s.target)))].sort(
    (a, b) => a - b,
  );
  const names = results.map((c) => c.system);
  out.push(
    `Each system in turn on the same core, with the same load generator (${results[0]?.client === 'wrtc' ? '@roamhq/wrtc' : 'libdatachannel (node-datachannel)'} clients on the other core), the same agent (one sipp UAS answering PCMU, RTP echo) and the same codec (PCMU both legs). CPU and RSS are of the whole system (Parley: its Node process and its mediasoup workers; Janus: its process), per call above its idle. "Audio" counts the calls whose echoed audio kept arriving during the hold. INVITE → 200 and answer → first audio are measured at the clients (for Janus: \`call\` → \`accepted\`), for the calls placed in that step.`,
    '',
  );
  out.push(
    row([
      'calls',
      ...names.flatMap((n) => [`${n} CPU % / call`, `${n} RSS MB / call`, `${n} audio`]),
    ]),
    `|---|${names.map(() => '---|---|---|').join('')}`,
  );
  for (const t of targets) {
    out.push(
      row([
        t,
        ...results.flatMap((c) => {
          const s = stepOf(c, t);
          if (!s) return ['–', '–', '–'];
          return [
            `${s.cpuPercentPerCall.toFixed(3)}${s.loadGeneratorSaturated ? ' (load generator saturated)' : ''}`,
            (s.rssBytesPerCall / 2 ** 20).toFixed(2),
            `${s.audioFlowing}/${s.up}${s.failed ? `, ${s.failed} failed` : ''}`,
          ];
        }),
      ]),
    );
  }
  out.push('');
  out.push(
    row([
      'calls',
      ...names.flatMap((n) => [
        `${n} INVITE→200 p50 / p95 ms`,
        `${n} answer → first audio p50 / p95 ms`,
      ]),
      ...names.map((n) => `${n} RSS MB (all)`),
    ]),
    `|---|${names.map(() => '---|---|---|').join('')}`,
  );
  for (const t of targets) {
    out.push(
      row([
        t,
        ...results.flatMap((c) => {
          const s = stepOf(c, t);
          if (!s) return ['–', '–'];
          return [
            `${ms(s.inviteMs.p50)} / ${ms(s.inviteMs.p95)}`,
            `${ms(s.firstAudioMs.p50)} / ${ms(s.firstAudioMs.p95)}`,
          ];
        }),
        ...results.map((c) => {
          const s = stepOf(c, t);
          return s ? mb(s.rssBytes) : '–';
        }),
      ]),
    );
  }
  out.push('');
  const memoryAt = targets.includes(50) ? 50 : targets.at(-1);
  if (memoryAt !== undefined) {
    const parts = results.map((c) => {
      const s = stepOf(c, memoryAt);
      const byProcess = s
        ? Object.entries(s.rssByProcess)
            .map(([name, bytes]) => `${name.replace(/ \d+$/, '')} ${mb(bytes)} MB`)
            .join(', ')
        : '–';
      return `${c.system}: ${byProcess}`;
    });
    out.push(`- RSS by process at ${memoryAt} calls: ${parts.join('; ')}.`);
  }
  for (const t of targets.filter((x) => x >= 100)) {
    const parts = results.map((c) => {
      const s = stepOf(c, t);
      const byProcess = s
        ? Object.entries(s.cpuByProcess)
            .map(([name, pct]) => `${name.replace(/ \d+$/, '')} ${pct.toFixed(1)} %`)
            .join(', ')
        : '–';
      return `${c.system}: ${byProcess}`;
    });
    out.push(`- CPU by process at ${t} calls (% of one core): ${parts.join('; ')}.`);
  }
  out.push('');
  const janus = results.find((c) => c.system === 'janus');
  if (janus) {
    for (const c of results.filter((r) => r !== janus)) {
      out.push(`Ratios, ${c.system} over Janus (below 1: Parley spends less):`, '');
      out.push(
        row([
          'calls',
          'CPU per call',
          'RSS per call',
          'RSS in all',
          'INVITE→200 p95',
          'answer → first audio p95',
        ]),
        '|---|---|---|---|---|---|',
      );
      for (const t of targets) {
        const a = stepOf(c, t);
        const b = stepOf(janus, t);
        if (!a || !b) continue;
        out.push(
          row([
            t,
            ratio(a.cpuPercentPerCall, b.cpuPercentPerCall),
            ratio(a.rssBytesPerCall, b.rssBytesPerCall),
            ratio(a.rssBytes, b.rssBytes),
            ratio(a.inviteMs.p95, b.inviteMs.p95),
            ratio(a.firstAudioMs.p95, b.firstAudioMs.p95),
          ]),
        );
      }
      out.push('');
    }
  }
  return out;
}
