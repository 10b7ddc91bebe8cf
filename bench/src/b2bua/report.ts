/** The B2BUA benchmark's report: one run in a line, and the Markdown section for docs/benchmarks.md. */
import type { LatencySummary } from '../latency-stats.js';
import type { Results, RunResult } from './results.js';

/** `n` to `digits` decimals (NaN and infinities as they are). */
export const round = (n: number, digits = 1): number =>
  Number.isFinite(n) ? Number(n.toFixed(digits)) : n;
/** Bytes in MB, to one decimal. */
export const mb = (bytes: number): number => round(bytes / 1024 / 1024, 1);

/** One run, in a line (progress). */
export function describeRun(r: RunResult): string {
  const l = r.latency;
  const g = r.gateway;
  return (
    `${r.label}: ${r.successful}/${r.calls} ok, ${r.failed} failed, ${r.retransmissions} retrans, ` +
    `${r.achievedRate}/s achieved, INVITE→200 p50 ${round(l.p50Ms, 2)} p99 ${round(l.p99Ms, 2)} max ${round(l.maxMs, 2)} ms` +
    (r.wire
      ? ` (wire: p50 ${round(r.wire.inbound.p50Ms, 2)} p99 ${round(r.wire.inbound.p99Ms, 2)} max ${round(r.wire.inbound.maxMs, 2)} ms` +
        (r.wire.outbound.samples
          ? `; agent leg p50 ${round(r.wire.outbound.p50Ms, 2)} p99 ${round(r.wire.outbound.p99Ms, 2)} ms`
          : '') +
        (r.wire.own
          ? `; gateway's own p50 ${round(r.wire.own.total.p50Ms, 2)} p99 ${round(r.wire.own.total.p99Ms, 2)} ms over ${r.wire.own.calls} paired calls`
          : '') +
        ')'
      : '') +
    (g
      ? `, gateway CPU ${round(g.cpuPercent)}% (peak ${round(g.peakCpuPercent)}%, waited for the CPU ${round(g.runWaitPercent)}%) RSS ${mb(g.rssMaxBytes)} MB`
      : '') +
    (r.heapUsedAfterBytes !== undefined ? `, heap after ${mb(r.heapUsedAfterBytes)} MB` : '') +
    (r.udpDrops.gateway || r.udpDrops.uas
      ? `, UDP drops gateway ${r.udpDrops.gateway} UAS ${r.udpDrops.uas}`
      : '') +
    (r.cpuMsPerCall !== undefined ? `, ${r.cpuMsPerCall} CPU ms/call` : '') +
    (r.leftoverCalls ? `, ${r.leftoverCalls} calls left in the gateway` : '') +
    (r.failures
      ? `\n    failures: ${JSON.stringify(r.failures.responses)} ${JSON.stringify(r.failures.counters)}`
      : '') +
    (Object.keys(r.gatewayWarnings).length
      ? `\n    gateway warnings: ${JSON.stringify(r.gatewayWarnings)}`
      : '')
  );
}

const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 1) : '–');
const pct = (n: number | undefined): string =>
  n !== undefined && Number.isFinite(n) ? n.toFixed(1) : '–';

/** The Markdown section; `maxCallsPerAgent` as the gateway was configured. */
export function markdown(r: Results, maxCallsPerAgent: number): string {
  const out: string[] = [];
  out.push(
    `## B2BUA: sipp → gateway → sipp${r.options.quick ? ' (--quick smoke run: not for publishing)' : ''}`,
    '',
  );
  out.push(
    `${r.machine.date.slice(0, 10)}, ${r.machine.nproc} × ${r.machine.model}, Node ${r.machine.node}, gateway at ${r.machine.git}; ` +
      `gateway pinned to CPU ${r.options.gatewayCpu}, every sipp (UAC and UAS) to CPU ${r.options.sippCpu}; ` +
      `UDP on 127.0.0.1, SQLite storage in a file, log level warn, ${r.options.agents} static agents × ${maxCallsPerAgent} calls ` +
      `all answered by one sipp UAS. A shared machine (load average ${r.machine.loadAverage} at the start): figures are noisy; ` +
      '"waited for its CPU" is the time the gateway was ready to run while something else held its core. ' +
      `INVITE→200 is sipp's response time (its first INVITE to the 200), including the UAS's answer.`,
    '',
  );
  if (r.rate) {
    out.push(
      `### Call setup rate (signalling only, ${r.options.callMs} ms calls, ${r.options.stepSeconds} s per step)`,
      '',
      '| offered calls/s | achieved/s | calls | failed | retrans | INVITE→200 p50 / p99 / max (ms) | gateway CPU % (mean / peak 1 s) | CPU ms per call | waited for its CPU % | UDP drops (gateway / UAS) | RSS max (MB) | heap after (MB) |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of r.rate.steps) {
      out.push(
        `| ${s.rate} | ${s.achievedRate} | ${s.calls} | ${s.failed} | ${s.retransmissions} | ${ms(s.latency.p50Ms)} / ${ms(s.latency.p99Ms)} / ${ms(s.latency.maxMs)} | ` +
          `${pct(s.gateway?.cpuPercent)} / ${pct(s.gateway?.peakCpuPercent)} | ${s.cpuMsPerCall ?? '–'} | ${pct(s.gateway?.runWaitPercent)} | ` +
          `${s.udpDrops.gateway} / ${s.udpDrops.uas} | ` +
          `${s.gateway ? mb(s.gateway.rssMaxBytes) : '–'} | ${s.heapUsedAfterBytes !== undefined ? mb(s.heapUsedAfterBytes) : '–'} |`,
      );
    }
    out.push('');
    out.push(
      `Highest step with zero failed calls (and p99 ≤ ${r.options.maxP99Ms} ms): **${r.rate.highestCleanRate ?? 'none'} calls/s**` +
        (r.rate.highestCleanRate === r.options.rates[r.options.rates.length - 1]
          ? ' (the last step: not saturated; raise --rates)'
          : '') +
        '.',
    );
    if (r.rate.noisy.length) {
      out.push(
        `Run again because other processes held the gateway's core (> ${r.options.noisyWaitPercent} % wait) and calls failed: ` +
          r.rate.noisy
            .map(
              (s) => `${s.rate}/s (${s.failed} failed, waited ${pct(s.gateway?.runWaitPercent)} %)`,
            )
            .join(', ') +
          '.',
      );
    }
    if (r.uas && Number(r.uas['failed']) + Number(r.uas['deadCallMessages']) > 0) {
      out.push(
        `The agent side was at its limit too: the one sipp UAS (sharing CPU ${r.options.sippCpu} with the UAC) failed ${r.uas['failed']} of ` +
          `${r.uas['incoming']} calls and saw ${r.uas['deadCallMessages']} messages for calls it had dropped (details in the JSON).`,
      );
    }
    const failing = r.rate.steps.find((s) => s.label === r.rate?.firstFailing);
    if (failing?.failures) {
      out.push(
        `First failing step, ${failing.rate} calls/s: ${failing.failed} failed, ${failing.calls - failing.successful - failing.failed} unfinished; ` +
          `responses ${JSON.stringify(failing.failures.responses)}, sipp counters ${JSON.stringify(failing.failures.counters)}.`,
      );
    }
    out.push('');
  }
  if (r.latency) {
    const { direct, gateway: g, wire } = r.latency;
    const three = (l: LatencySummary | undefined): string =>
      l && l.samples > 0 ? `${ms(l.p50Ms)} / ${ms(l.p99Ms)} / ${ms(l.maxMs)}` : '–';
    out.push(
      `### Latency added (signalling only, ${r.options.latencyRate} calls/s for ${r.options.latencySeconds} s)`,
      '',
      'INVITE→200 in ms, p50 / p99 / max: as sipp reports it (whole ms, in 4 ms steps here) and timed on the wire by tshark on lo.',
      '',
      '| path | calls | failed | sipp | wire |',
      '|---|---|---|---|---|',
      `| sipp → sipp UAS (reference) | ${direct.calls} | ${direct.failed} | ${three(direct.latency)} | ${three(direct.wire?.inbound)} |`,
      `| sipp → gateway → sipp UAS | ${g.calls} | ${g.failed} | ${three(g.latency)} | ${three(g.wire?.inbound)} |`,
      `| of which gateway → sipp UAS (agent leg) | | | | ${three(g.wire?.outbound)} |`,
      `| **added by the gateway** (p50 / p99) | | | **${ms(r.latency.addedP50Ms)} / ${ms(r.latency.addedP99Ms)}** | ` +
        `**${wire ? `${ms(wire.addedP50Ms)} / ${ms(wire.addedP99Ms)}` : '–'}** |`,
      '',
    );
    if (wire?.own) {
      const o = wire.own;
      out.push(
        `The gateway's own time per call, from both legs of ${o.calls} calls paired on the wire (ms, p50 / p99 / max):`,
        '',
        '| visitor INVITE in → agent INVITE out | agent 200 in → visitor 200 out | together |',
        '|---|---|---|',
        `| ${three(o.inviteToInvite)} | ${three(o.okToOk)} | **${three(o.total)}** |`,
        '',
        `Its 100 Trying leaves p50 ${ms(g.wire?.inboundTrying.p50Ms ?? NaN)} ms after the INVITE arrives.`,
        '',
      );
    } else if (wire) {
      out.push(
        `The gateway's own time per INVITE (visitor leg minus agent leg, on means): **${ms(wire.ownMeanMs)} ms**.`,
        '',
      );
    }
  }
  if (r.held?.length) {
    const n = r.held[0]?.calls ?? 0;
    out.push(
      `### ${n} calls held open (${r.held[0]?.holdSeconds} s each), steady state`,
      '',
      '| media | gateway CPU % of one core (idle) | CPU % per call | RSS MB (idle) | RSS per call (KB) | INVITE→200 p50 / p99 (ms) | RTP packets relayed (visitor→agent / agent→visitor) |',
      '|---|---|---|---|---|---|---|',
    );
    for (const h of r.held) {
      const relayed = h.relayed
        ? h.media === 'rtp'
          ? `${h.relayed.visitorIn} / ${h.relayed.agentIn}`
          : `${h.relayed.visitorIn + h.relayed.agentIn}`
        : '–';
      out.push(
        `| ${h.media === 'rtp' ? 'PCMU 20 ms both ways through the relay' : 'none (signalling only)'} | ` +
          `${pct(h.steady?.cpuPercent)} (${pct(h.idle?.cpuPercent)}) | ${h.cpuPercentPerCall ?? '–'} | ` +
          `${h.steady ? mb(h.steady.rssMeanBytes) : '–'} (${h.idle ? mb(h.idle.rssMeanBytes) : '–'}) | ` +
          `${h.rssBytesPerCall !== undefined ? round(h.rssBytesPerCall / 1024, 0) : '–'} | ` +
          `${ms(h.run.latency.p50Ms)} / ${ms(h.run.latency.p99Ms)} | ${relayed} |`,
      );
    }
    out.push(
      '',
      'RSS per call is the steady RSS over the idle RSS before the run, divided by the calls: GC makes it rough.',
      '',
    );
  }
  if (r.cpuProfile) {
    const p = r.cpuProfile;
    out.push(
      `### Where the gateway's CPU went (node --cpu-prof from the warm-up on, ${p.busySeconds} s busy; profiling slows it)`,
      '',
      '| area | % of busy | function (self time) | % of busy |',
      '|---|---|---|---|',
      ...Array.from({ length: Math.max(p.areas.length, p.functions.length) }, (_, i) => {
        const a = p.areas[i];
        const f = p.functions[i];
        return `| ${a ? `\`${a.name}\`` : ''} | ${a?.percent ?? ''} | ${f ? `\`${f.name}\`` : ''} | ${f?.percent ?? ''} |`;
      }),
      '',
    );
  }
  if (r.idle?.snapshots.length) {
    out.push(
      `### After the load: the gateway left alone for ${r.idle.seconds} s`,
      '',
      '| s after the load | heap used (MB) | RSS (MB) | calls | SIP transactions | dialogs | media routers |',
      '|---|---|---|---|---|---|---|',
      ...r.idle.snapshots.map(
        (s) =>
          `| ${s.atSeconds}${s.afterFullGc ? ' (after a full GC)' : ''} | ${mb(s.heapUsedBytes)} | ${mb(s.rssBytes)} | ${s.calls} | ${s.transactions} | ${s.dialogs} | ${s.mediaRouters} |`,
      ),
      '',
    );
  }
  if (r.error) out.push(`**The run stopped early:** ${r.error}`, '');
  return out.join('\n');
}
