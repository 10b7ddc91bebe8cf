/**
 * Call setup as a visitor sees it: Debian's Chromium on the demo company page
 * with the real widget (built widget/dist, real screening and token endpoint),
 * a gateway in this process (gateway/test/harness.ts), a baresip agent that
 * rings until told to answer (Opus and PCMU). One call at a time, each in a
 * fresh browser context (a first-time visitor: page, lazy call stack, token,
 * microphone, WebSocket, INVITE), after one warm-up call that is not counted.
 *
 * - click → ringing: from the mouse click Playwright sends to the button to
 *   baresip's CALL_INCOMING on its control socket, both timed here;
 * - answer → first audio: from `agent.accept()` (sent ~300 ms after ringing)
 *   to the first poll of the page's RTCPeerConnection.getStats() that sees
 *   inbound-rtp packetsReceived > 0; polls are page.evaluate calls every
 *   `pollMs`, so the figure is late by up to one poll period (reported). The
 *   remote track's `unmute` event (Chromium fires it on the first packet) is
 *   recorded in the page with Date.now() as a cross-check.
 */
import { existsSync } from 'node:fs';
import { WIDGET_DIST, startWidgetWorld } from '@parley/e2e/widget-fixture';
import { startBaresipAgent, type BaresipEvent } from '@parley/testkit';
import { summary, type Summary } from './measure.js';
import { PROBE, inbound, type ProbeWindow } from './page-probe.js';

export { WIDGET_DIST };

export interface WidgetSetupOptions {
  readonly calls: number;
  readonly pollMs: number;
  /** Ringing → accept, ms. */
  readonly answerDelayMs: number;
  /** How long each call stays up after the first audio. */
  readonly holdMs: number;
  /** `media.earlyAnswer` of the gateway (issue 15 item 3). */
  readonly earlyAnswer: 'off' | 'auto' | 'PCMU' | 'opus';
  /**
   * The pointer rests on the button this long before the click (a visitor
   * reading it; the widget warms up on hover). 0: Playwright's click moves
   * the pointer and clicks at once (the earlier runs' procedure).
   */
  readonly dwellMs: number;
  readonly progress: (line: string) => void;
}

export interface CallTiming {
  readonly clickToRingingMs: number;
  readonly acceptToFirstAudioMs: number;
  /** accept() → the remote track's unmute in the page (wall clocks), ms. */
  readonly acceptToUnmuteMs: number | undefined;
  /** Where the time went, ms between consecutive steps (wall clocks; undefined when a step was not seen). */
  readonly breakdown: Record<string, number | undefined>;
  /** Polls made before the first one that saw audio. */
  readonly polls: number;
  readonly codec: string | undefined;
}

export interface WidgetSetupResult {
  readonly gateway: string;
  readonly warmUp: CallTiming | undefined;
  readonly calls: readonly CallTiming[];
  readonly failures: readonly string[];
  readonly clickToRinging: Summary;
  readonly acceptToFirstAudio: Summary;
  readonly acceptToUnmute: Summary;
  /** Medians and more of each breakdown step. */
  readonly breakdown: Record<string, Summary>;
  /** Mean time between two getStats polls, ms (the resolution). */
  readonly pollPeriodMs: number;
  readonly pollMs: number;
}

const sleep = (msec: number): Promise<void> => new Promise((r) => setTimeout(r, msec));

export async function runWidgetSetup(o: WidgetSetupOptions): Promise<WidgetSetupResult> {
  if (!existsSync(`${WIDGET_DIST}parley.js`)) throw new Error(`no built widget in ${WIDGET_DIST}`);
  // The e2e tests' world: a gateway in this process, the demo company site, Chromium with a 700 Hz microphone.
  const world = await startWidgetWorld({
    agents: [{ id: 'agent1' }],
    ringTimeoutSeconds: 20,
    mediaExtra: { earlyAnswer: o.earlyAnswer },
  });
  const { gw, siteOrigin, browser } = world;
  const agent = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: gw.udp,
    // One clock rate (baresip's tone file is not resampled): Opus unless the
    // gateway's early answer offers a SIP phone PCMU alone.
    codecs: o.earlyAnswer === 'auto' || o.earlyAnswer === 'PCMU' ? ['PCMU'] : ['opus/48000/2'],
    answerMode: 'manual',
  });
  const pollPeriods: number[] = [];
  const failures: string[] = [];
  try {
    await agent.registered();
    o.progress(
      `gateway in this process, baresip agent registered, Chromium ${browser.version()}, site ${siteOrigin}`,
    );

    const oneCall = async (): Promise<CallTiming> => {
      const context = await browser.newContext();
      try {
        await context.addInitScript(PROBE);
        const page = await context.newPage();
        await page.goto(`${siteOrigin}/`);
        const button = page.locator('parley-call').getByRole('button', { name: /call/i }).first();
        await button.waitFor({ state: 'visible', timeout: 10_000 });
        // mouse.click takes viewport coordinates: the button must be in view.
        await button.scrollIntoViewIfNeeded();
        const box = await button.boundingBox();
        if (!box) throw new Error('the call button has no box');

        if (o.dwellMs > 0) {
          await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
          await sleep(o.dwellMs);
        }
        let ringingAt: number | undefined;
        let closed: string | undefined;
        const seen: string[] = [];
        const onEvent = (e: BaresipEvent): void => {
          seen.push(e.type);
          if (e.type === 'CALL_INCOMING') ringingAt ??= performance.now();
          if (e.type === 'CALL_CLOSED') closed = e.param ?? 'closed';
        };
        agent.events.on('event', onEvent);
        try {
          const clickWall = Date.now();
          const clickAt = performance.now();
          await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
          const ringDeadline = clickAt + 20_000;
          while (ringingAt === undefined && performance.now() < ringDeadline && !closed)
            await sleep(2);
          if (ringingAt === undefined) {
            const states = await page
              .evaluate(() => (globalThis as unknown as ProbeWindow).__states)
              .catch(() => []);
            throw new Error(
              `no CALL_INCOMING within 20 s${closed ? ` (closed: ${closed})` : ''}; widget states: ${states.join(' → ') || 'none'}; agent events: ${seen.join(', ') || 'none'}`,
            );
          }
          const clickToRingingMs = ringingAt - clickAt;

          await sleep(Math.max(0, ringingAt + o.answerDelayMs - performance.now()));
          const before = await inbound(page);
          if (before.packets > 0) throw new Error('audio before the answer');
          const sipMark = agent.sipMessages().length;
          const acceptWall = Date.now();
          const acceptAt = performance.now();
          await agent.accept();
          let polls = 0;
          let firstAudioAt: number | undefined;
          let codec: string | undefined;
          let lastPoll = performance.now();
          const audioDeadline = acceptAt + 15_000;
          while (performance.now() < audioDeadline) {
            const s = await inbound(page);
            const now = performance.now();
            pollPeriods.push(now - lastPoll);
            lastPoll = now;
            if (s.packets > 0) {
              firstAudioAt = now;
              codec = s.codec;
              break;
            }
            polls += 1;
            await sleep(Math.max(0, o.pollMs - (performance.now() - now)));
          }
          if (firstAudioAt === undefined)
            throw new Error('no inbound audio within 15 s of the answer');
          const marks = await page.evaluate(() => {
            const g = globalThis as unknown as ProbeWindow & {
              performance: {
                timeOrigin: number;
                getEntriesByType(t: string): { name: string; responseEnd: number }[];
              };
            };
            const chunk = g.performance
              .getEntriesByType('resource')
              .find((e) => e.name.includes('parley-client'));
            return {
              ...g.__marks,
              ...(chunk ? { chunk: Math.round(g.performance.timeOrigin + chunk.responseEnd) } : {}),
            };
          });
          const ringingWall = clickWall + clickToRingingMs;
          // When the bench read baresip's own trace of its 200 OK (stdout, so a little late).
          const agentOk = agent
            .sipMessages()
            .slice(sipMark)
            .find(
              (m) =>
                m.direction === 'out' && m.status === 200 && /INVITE/i.test(m.header('cseq') ?? ''),
            )?.loggedAt;
          const gap = (a: number | undefined, b: number | undefined): number | undefined =>
            a !== undefined && b !== undefined ? b - a : undefined;
          await sleep(o.holdMs);
          await page
            .locator('parley-call')
            .getByRole('button', { name: 'Hang up' })
            .click({ timeout: 5000 });
          const byeDeadline = performance.now() + 10_000;
          while (!closed && performance.now() < byeDeadline) await sleep(20);
          if (!closed) throw new Error('the agent saw no hang-up within 10 s');
          return {
            clickToRingingMs,
            acceptToFirstAudioMs: firstAudioAt - acceptAt,
            acceptToUnmuteMs: gap(acceptWall, marks.unmute),
            breakdown: {
              'click → token from the company site (in parallel with the next two)': gap(
                clickWall,
                marks.token,
              ),
              'click → call-stack chunk loaded': gap(clickWall, marks.chunk),
              'click → microphone granted': gap(clickWall, marks.mic),
              'click → SIP WebSocket created': gap(clickWall, marks.ws),
              'WebSocket created → open': gap(marks.ws, marks.wsOpen),
              'click → RTCPeerConnection created': gap(clickWall, marks.pc),
              'RTCPeerConnection → INVITE sent (the widget sends on the first ICE candidate)': gap(
                marks.pc,
                marks.invite,
              ),
              'INVITE sent → agent ringing': gap(marks.invite, ringingWall),
              'accept → agent sends 200 OK (its SIP trace)': gap(acceptWall, agentOk),
              'agent 200 OK → 200 OK at the page (through the gateway)': gap(agentOk, marks.ok),
              '200 OK at the page → answer SDP applied (sip.js)': gap(marks.ok, marks.answer),
              'answer applied → ICE connected': gap(marks.answer, marks.ice),
              'ICE connected → DTLS connected': gap(marks.ice, marks.dtls),
              'DTLS connected → first packet (unmute)': gap(marks.dtls, marks.unmute),
              'agent 200 OK → first packet at the page (unmute)': gap(agentOk, marks.unmute),
            },
            polls,
            codec,
          };
        } finally {
          agent.events.off('event', onEvent);
        }
      } finally {
        await context.close();
      }
    };

    let warmUp: CallTiming | undefined;
    try {
      warmUp = await oneCall();
      o.progress(
        `warm-up: click→ringing ${warmUp.clickToRingingMs.toFixed(0)} ms, answer→audio ${warmUp.acceptToFirstAudioMs.toFixed(0)} ms (${warmUp.codec ?? '?'})`,
      );
    } catch (error) {
      failures.push(`warm-up: ${(error as Error).message}`);
      o.progress(`warm-up failed: ${(error as Error).message}`);
    }
    pollPeriods.length = 0;
    const calls: CallTiming[] = [];
    for (let i = 1; i <= o.calls; i += 1) {
      try {
        const t = await oneCall();
        calls.push(t);
        o.progress(
          `call ${i}/${o.calls}: click→ringing ${t.clickToRingingMs.toFixed(0)} ms, answer→audio ${t.acceptToFirstAudioMs.toFixed(0)} ms (unmute ${t.acceptToUnmuteMs ?? '–'} ms, ${t.codec ?? '?'})`,
        );
      } catch (error) {
        failures.push(`call ${i}: ${(error as Error).message}`);
        o.progress(`call ${i}/${o.calls} failed: ${(error as Error).message}`);
        // Whatever is left of it: hang up at the agent.
        await agent.hangup().catch(() => undefined);
      }
      await sleep(200);
    }
    const defined = (xs: (number | undefined)[]): number[] =>
      xs.filter((x): x is number => x !== undefined);
    return {
      gateway:
        'in the bench process (gateway/test/harness.ts startTestGateway), not pinned; Chromium, baresip and the bench share both cores',
      warmUp,
      calls,
      failures,
      clickToRinging: summary(calls.map((c) => c.clickToRingingMs)),
      acceptToFirstAudio: summary(calls.map((c) => c.acceptToFirstAudioMs)),
      acceptToUnmute: summary(defined(calls.map((c) => c.acceptToUnmuteMs))),
      breakdown: Object.fromEntries(
        Object.keys(calls[0]?.breakdown ?? {}).map((k) => [
          k,
          summary(defined(calls.map((c) => c.breakdown[k]))),
        ]),
      ),
      pollPeriodMs: summary(pollPeriods).mean,
      pollMs: o.pollMs,
    };
  } finally {
    await agent.stop();
    await world.close();
  }
}
