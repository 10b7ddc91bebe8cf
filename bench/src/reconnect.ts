/**
 * Visitors that survive the network (issue 16 item 4), measured with the real
 * widget in Chromium, a gateway in this process and a baresip agent:
 *
 * - reconnect gap: the page's WebSocket is cut (a relay resets both sides) for
 *   `--cut-ms`, then let through again; measured from the new WebSocket's
 *   `open` to the call rebound (the rebind re-INVITE's 2xx: the widget is
 *   `in-call` again), and the longest pause of the page's inbound audio
 *   (RTP packets, sampled every 20 ms) from the cut to 1 s after the rebind;
 * - ICE restart gap: the page's `online` event (a network change) makes the
 *   widget send a re-INVITE with new ICE credentials; measured from the event
 *   to its 2xx, and the longest inbound audio pause around it;
 * - a real address change (`--moves`, one call each): the page's host moves
 *   to another address in the namespace (e2e/src/page-network.ts: every old
 *   path dies, no event tells the page); measured from the move to the
 *   widget's ICE restart answered, and the longest inbound audio pause from
 *   the move to 1 s after that answer (the widget's dead-path detection
 *   included).
 *
 * The cuts and `online` events happen in one call. Goal (issue 16): reconnect gap p95 ≤ 1 s.
 *
 * With `--kamailio` the page's SIP over WebSocket ends on Kamailio
 * (deploy/kamailio/, as `e2e/tests/reconnect-kamailio.e2e.test.ts` starts it),
 * which tells the gateway of the cut (an OPTIONS with X-Parley-Closed) and
 * carries the widget's rebind re-INVITE to it: the same figures behind the
 * SIP edge.
 *
 *   ./scripts/in-netns.sh node --import tsx bench/src/reconnect.ts [--events 20] [--cut-ms 1000]
 *       [--moves 10] [--quick] [--kamailio]
 */
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { startCuttableRelay } from '@parley/e2e/cuttable-relay';
import { movePageNetwork, pageIce } from '@parley/e2e/page-network';
import { clickCall, startWidgetWorld, states } from '@parley/e2e/widget-fixture';
import { startBaresipAgent, startKamailio, stopAll, type Kamailio } from '@parley/testkit';
import { percentile } from './latency-stats.js';
import { machine } from './webrtc/measure.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    events: { type: 'string' },
    'cut-ms': { type: 'string', default: '1000' },
    moves: { type: 'string' },
    kamailio: { type: 'boolean', default: false },
  },
});
const EVENTS = Number(values.events ?? (values.quick ? 3 : 20));
const MOVES = Number(values.moves ?? (values.quick ? 2 : 10));
const CUT_MS = Number(values['cut-ms']);
/** Kamailio's address with `--kamailio`: the gateway trusts its X-Parley-* headers from there only. */
const EDGE = '127.0.0.2';
const log = (line: string): void => void process.stderr.write(`[reconnect] ${line}\n`);

/** In the page: WebSocket opens, and the inbound audio packet count every 20 ms. */
const PROBE = `
  // tsx (esbuild, keepNames) wraps the named functions of code sent to page.evaluate in __name.
  window.__name = window.__name || ((f) => f);
  window.__wsOpens = [];
  const OriginalWs = window.WebSocket;
  window.WebSocket = class extends OriginalWs {
    constructor(...args) { super(...args); this.addEventListener('open', () => window.__wsOpens.push(Date.now())); }
  };
  window.__audio = [];
  setInterval(async () => {
    const pc = (window.__pcs || []).at(-1);
    if (!pc) return;
    let packets = 0;
    (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') packets = r.packetsReceived; });
    window.__audio.push([Date.now(), packets]);
  }, 20);
`;

type Probe = { __wsOpens: number[]; __audio: [number, number][] };

/** The longest time between two increases of the inbound packet count in [from, to]. */
async function longestAudioPause(page: Page, from: number, to: number): Promise<number> {
  const samples = await page.evaluate(() => (window as unknown as Probe).__audio);
  let last: [number, number] | undefined;
  let longest = 0;
  for (const [t, packets] of samples) {
    if (t < from || t > to) continue;
    if (last && packets > last[1]) {
      longest = Math.max(longest, t - last[0]);
      last = [t, packets];
    } else if (!last) last = [t, packets];
  }
  return longest;
}

const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), max: s.at(-1) ?? NaN, n: s.length };
};

const host = machine();
const world = await startWidgetWorld({
  agents: [{ id: 'agent1' }],
  config: { visitors: { reconnectGraceSeconds: 30 } },
  ...(values.kamailio ? { sipExtra: { edge: { trusted: [EDGE] } } } : {}),
});
const agent = await startBaresipAgent({
  user: 'agent1',
  password: 'secret',
  registrar: world.gw.udp,
  codecs: ['PCMU', 'PCMA'],
});
await agent.registered();
const kamailio: Kamailio | undefined = values.kamailio
  ? await startKamailio({ gateways: [world.gw.udp], host: EDGE })
  : undefined;
const relay = kamailio
  ? await startCuttableRelay(Number(new URL(kamailio.wsUrl).port), EDGE)
  : await startCuttableRelay(Number(new URL(world.gw.gateway.httpUrl).port));

/** Points the page's widget at `url` (the relay, or Kamailio) instead of the gateway. */
const useGateway = (page: Page, url: string): Promise<void> =>
  page.evaluate((u) => document.querySelector('parley-call')!.setAttribute('gateway', u), url);
const reconnectGaps: number[] = [];
const reconnectPauses: number[] = [];
const iceGaps: number[] = [];
const icePauses: number[] = [];
const moveGaps: number[] = [];
const movePauses: number[] = [];

/** Re-INVITEs answered (200 to an INVITE) as the page receives them, with their times. */
function answeredInvites(page: Page): number[] {
  const oks: number[] = [];
  page.on('websocket', (socket) =>
    socket.on('framereceived', ({ payload }) => {
      const text = String(payload);
      if (/^SIP\/2\.0 200/.test(text) && /CSeq:\s*\d+ INVITE/i.test(text)) oks.push(Date.now());
    }),
  );
  return oks;
}

/** Hangs the page's call up, and waits for its end. */
async function hangUp(page: Page): Promise<void> {
  await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
  while (!(await states(page)).includes('ended')) await page.waitForTimeout(50);
}

/** One call moved to another address: move → the restart's 2xx, and the audio pause around it. */
async function oneMove(i: number): Promise<void> {
  const { context, page } = await world.newPage();
  await context.addInitScript(PROBE);
  const oks = answeredInvites(page);
  await page.goto(`${world.siteOrigin}/`);
  // Through Kamailio, over the relay (the page's CSP allows 127.0.0.1 only); it is not cut here.
  if (kamailio) await useGateway(page, relay.url);
  await clickCall(page);
  while (!(await states(page)).includes('in-call')) await page.waitForTimeout(50);
  await page.waitForTimeout(1500);
  const before = await pageIce(page);
  const okBefore = oks.length;
  const at = Date.now();
  const move = await movePageNetwork(before.local);
  try {
    const deadline = Date.now() + 20_000;
    while (oks.length === okBefore) {
      if (Date.now() > deadline) throw new Error('no ICE restart within 20 s of the move');
      await page.waitForTimeout(20);
    }
    const answered = oks[oks.length - 1]!;
    await page.waitForTimeout(1500);
    moveGaps.push(answered - at);
    movePauses.push(await longestAudioPause(page, at, answered + 1000));
    log(`move ${i + 1}: ICE restart answered ${answered - at} ms after the move`);
    await hangUp(page);
  } finally {
    await context.close();
    await move.restore();
  }
}

try {
  const { context, page } = await world.newPage();
  await context.addInitScript(PROBE);
  const reinviteOks = answeredInvites(page);
  await page.goto(`${world.siteOrigin}/`);
  await useGateway(page, relay.url);
  await clickCall(page);
  while (!(await states(page)).includes('in-call')) await page.waitForTimeout(50);
  await page.waitForTimeout(1500);

  for (let i = 0; i < EVENTS; i++) {
    const cutAt = Date.now();
    const okBefore = reinviteOks.length;
    relay.cut();
    await page.waitForTimeout(CUT_MS);
    relay.restore();
    while (reinviteOks.length === okBefore || (await states(page)).at(-1) !== 'in-call') {
      if ((await states(page)).at(-1) === 'error') throw new Error('the call ended');
      await page.waitForTimeout(20);
    }
    const rebound = reinviteOks[reinviteOks.length - 1]!;
    const opened = (await page.evaluate(() => (window as unknown as Probe).__wsOpens)).at(-1)!;
    await page.waitForTimeout(1000);
    reconnectGaps.push(rebound - opened);
    reconnectPauses.push(await longestAudioPause(page, cutAt, rebound + 1000));
    log(`reconnect ${i + 1}: rebound ${rebound - opened} ms after the WebSocket opened`);
  }
  for (let i = 0; i < EVENTS; i++) {
    const okBefore = reinviteOks.length;
    const at = await page.evaluate(() => {
      window.dispatchEvent(new Event('online'));
      return Date.now();
    });
    while (reinviteOks.length === okBefore) await page.waitForTimeout(20);
    const answered = reinviteOks[reinviteOks.length - 1]!;
    await page.waitForTimeout(1000);
    iceGaps.push(answered - at);
    icePauses.push(await longestAudioPause(page, at, answered + 1000));
    log(`ICE restart ${i + 1}: answered ${answered - at} ms after the network change`);
  }
  await hangUp(page);
  await context.close();
  for (let i = 0; i < MOVES; i++) await oneMove(i);
} finally {
  await relay.close();
  await kamailio?.stop();
  await agent.stop();
  await world.close();
  await stopAll();
}

const r = summary(reconnectGaps);
const rp = summary(reconnectPauses);
const g = summary(iceGaps);
const gp = summary(icePauses);
const m = summary(moveGaps);
const mp = summary(movePauses);
const engine = process.env['PARLEY_MEDIA_ENGINE'] ?? 'auto';
process.stdout.write(
  [
    `### Visitors that survive the network (${host.date.slice(0, 10)}, ${host.cpu}, ${host.cores} CPUs, engine ${engine}${kamailio ? ', through Kamailio' : ''})`,
    '',
    `${EVENTS} WebSocket cuts of ${CUT_MS} ms and ${EVENTS} ICE restarts in one Chromium call to a baresip agent; ${MOVES} real address changes, one call each.`,
    '',
    '| measure | p50 | p95 | max |',
    '|---|---|---|---|',
    `| reconnect gap: WebSocket open → call rebound (2xx) | ${r.p50} ms | ${r.p95} ms | ${r.max} ms |`,
    `| longest inbound audio pause, cut → 1 s after the rebind | ${rp.p50} ms | ${rp.p95} ms | ${rp.max} ms |`,
    `| ICE restart gap: network change → re-INVITE answered | ${g.p50} ms | ${g.p95} ms | ${g.max} ms |`,
    `| longest inbound audio pause around the ICE restart | ${gp.p50} ms | ${gp.p95} ms | ${gp.max} ms |`,
    ...(MOVES > 0
      ? [
          `| real address change: move → the widget's ICE restart answered | ${m.p50} ms | ${m.p95} ms | ${m.max} ms |`,
          `| longest inbound audio pause, move → 1 s after that answer | ${mp.p50} ms | ${mp.p95} ms | ${mp.max} ms |`,
        ]
      : []),
    '',
  ].join('\n'),
);
process.exit(0);
