/**
 * What the widget e2e tests share: a gateway, the demo company site (the real
 * screening router and page, with the built widget), baresip agents, Chromium
 * with a 700 Hz microphone, and probes into the page.
 */
import { fileURLToPath } from 'node:url';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createCompanySite } from '@parley/demo/company-site';
import { API_KEY, startTestGateway, type TestGateway } from '@parley/gateway/test-harness';
import { gatewayInfoSource } from '@parley/shared/screening';
import { expect } from 'vitest';
import { analyse, cachedTone, type BaresipAgent } from '@parley/testkit';
import { launchChromium } from '@parley/testkit/chromium';

export const WIDGET_DIST = fileURLToPath(new URL('../../widget/dist/', import.meta.url));

/** Runs in every page before its scripts: records peer connections and widget events. */
export const PROBE = `
  window.__pcs = [];
  window.__states = [];
  window.__errors = [];
  window.__messages = [];
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  };
  document.addEventListener('parley-state', (e) => window.__states.push(e.detail.state));
  document.addEventListener('parley-error', (e) => window.__errors.push(e.detail));
  document.addEventListener('parley-message', (e) => window.__messages.push(e.detail.message));
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
`;

export interface WidgetWorld {
  readonly gw: TestGateway;
  readonly siteOrigin: string;
  readonly browser: Browser;
  newPage(): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

export interface WidgetWorldOptions {
  /**
   * The company site asks the gateway for ICE servers per token (with its API
   * key, `gatewayInfoSource`), as a site must when the gateway mints TURN
   * credentials.
   */
  readonly iceServersFromGateway?: boolean;
  /** A WAV for Chromium's fake microphone (default: a 700 Hz tone). */
  readonly microphone?: string;
}

export async function startWidgetWorld(
  options: Parameters<typeof startTestGateway>[0] = {},
  worldOptions: WidgetWorldOptions = {},
): Promise<WidgetWorld> {
  // A page's call crosses media, SIP and the data channel: keep the debug lines for a failure.
  const gw = await startTestGateway({ keptLog: 'debug', ...options });
  const { server, origin: siteOrigin, serve } = await listenOnLoopback();
  const site = createCompanySite({
    issuer: gw.issuer,
    gatewayUrl: gw.gateway.httpUrl,
    origin: siteOrigin,
    widgetDir: WIDGET_DIST,
    ...(worldOptions.iceServersFromGateway
      ? { gatewayInfo: gatewayInfoSource({ url: gw.gateway.httpUrl, apiKey: API_KEY }) }
      : {}),
    // Tests point the widget at other local ports (a gateway that is down, a
    // relay they cut): the CSP lets the page try them. `localhost` stays blocked.
    connectSources: ['http://127.0.0.1:*', 'ws://127.0.0.1:*'],
  });
  // A token endpoint that hands out expired tokens, for the "refused token" case.
  site.post('/test/expired-token', async (_req, res) => {
    const token = await gw.token({ subject: 'expired', origin: siteOrigin, issuedSecondsAgo: 600 });
    res.json({
      token,
      expiresAt: new Date().toISOString(),
      claims: {},
      gateway: { url: gw.gateway.httpUrl },
    });
  });
  serve(site);
  const mic = worldOptions.microphone ?? (await fakeMicrophone());
  const browser = await launchChromium({ fakeAudioCapture: mic });
  return {
    gw,
    siteOrigin,
    browser,
    async newPage() {
      const context = await browser.newContext();
      await context.addInitScript(PROBE);
      const page = await context.newPage();
      return { context, page };
    },
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await gw.close();
    },
  };
}

/**
 * An HTTP server on a port the kernel picks (port 0, so nothing can race for
 * it), whose origin is known before the app that serves it is built: the
 * company site needs its own origin to mint tokens for it.
 */
export async function listenOnLoopback(): Promise<{
  server: Server;
  origin: string;
  serve(app: RequestListener): void;
}> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    server,
    origin: `http://127.0.0.1:${address.port}`,
    serve: (app) => void server.on('request', app),
  };
}

type ProbeWindow = {
  __pcs: RTCPeerConnection[];
  __states: string[];
  __errors: { code: string; human: string }[];
  __messages: { text?: string }[];
};

export const states = (page: Page) =>
  page.evaluate(() => (window as unknown as ProbeWindow).__states);
export const errors = (page: Page) =>
  page.evaluate(() => (window as unknown as ProbeWindow).__errors);
export const received = (page: Page) =>
  page.evaluate(() => (window as unknown as ProbeWindow).__messages);

/** Audio arriving at the page: packets and total energy of the call's inbound RTP. */
export function inboundAudio(page: Page): Promise<{ packets: number; energy: number }> {
  return page.evaluate(async () => {
    const pc = (window as unknown as ProbeWindow).__pcs.at(-1);
    let out = { packets: 0, energy: 0 };
    if (!pc) return out;
    (await pc.getStats()).forEach(
      (r: { type: string; kind?: string; packetsReceived?: number; totalAudioEnergy?: number }) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio')
          out = { packets: r.packetsReceived ?? 0, energy: r.totalAudioEnergy ?? 0 };
      },
    );
    return out;
  });
}

/** The loudest frequency (Hz) of the call's remote audio in the page, over about 300 ms. */
export function remotePitch(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1);
    const track = pc?.getReceivers().find((r) => r.track.kind === 'audio')?.track;
    if (!track) return 0;
    const context = new AudioContext();
    await context.resume();
    const source = context.createMediaStreamSource(new MediaStream([track]));
    const analyser = context.createAnalyser();
    analyser.fftSize = 8192;
    source.connect(analyser);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i += 1) if (bins[i]! > bins[best]!) best = i;
    const level = bins[best]!;
    await context.close();
    // Silence has no peak worth the name.
    return level > -80 ? (best * context.sampleRate) / analyser.fftSize : 0;
  });
}

/** The widget's visible status text. */
export const statusText = (page: Page) => page.locator('parley-call [part="status"]').innerText();

/** A new page on the company site whose visitor clicks "Call". */
export async function callFromSite(world: WidgetWorld): Promise<Page> {
  const { page } = await world.newPage();
  await page.goto(`${world.siteOrigin}/`);
  await clickCall(page);
  return page;
}

export async function clickCall(page: Page): Promise<void> {
  await page
    .locator('parley-call')
    .getByRole('button', { name: /call|try again/i })
    .first()
    .click();
}

/** Content-Security-Policy violations the page reported (the company site sets a strict one). */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
}

/**
 * Chromium's fake microphone in the e2e tests: a 700 Hz tone, 30 s at 48 kHz
 * (generated once per machine), the tone {@link expectAgentHeardFakeMicrophone} finds.
 */
export function fakeMicrophone(): Promise<string> {
  return cachedTone({ freqHz: 700, seconds: 30, rate: 48000, channels: 1, volume: 0.5 });
}

/**
 * Chromium's fake microphone is a 700 Hz tone: the agent's recording of the call
 * must carry it, not silence.
 */
export async function expectAgentHeardFakeMicrophone(agent: BaresipAgent): Promise<void> {
  // Polled, not read once: baresip finishes the WAV file when it has closed
  // the call, which may come after the page shows "ended" or the BYE arrives.
  await expect.poll(() => agentHeard(agent), { timeout: 10_000 }).toBe('the 700 Hz tone');
}

/**
 * The agent's audio at the page, held for a second (the page's tone then fills
 * the agent's recording too), then the page hangs up: it shows "ended", and
 * the agent heard the page's microphone.
 */
export async function hangUpAfterAudioBothWays(page: Page, agent: BaresipAgent): Promise<void> {
  await expect
    .poll(async () => (await inboundAudio(page)).energy, { timeout: 10_000 })
    .toBeGreaterThan(0.001);
  await expect
    .poll(async () => (await inboundAudio(page)).packets, { timeout: 10_000 })
    .toBeGreaterThan(50);
  await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
  await expect.poll(() => states(page), { timeout: 10_000 }).toContain('ended');
  await expectAgentHeardFakeMicrophone(agent);
}

async function agentHeard(agent: BaresipAgent): Promise<string> {
  const recording = agent.lastRecording().received;
  if (!recording) return 'nothing recorded';
  const heard = await analyse(recording).catch((error: unknown) => String(error));
  if (typeof heard === 'string') return `an unreadable recording: ${heard}`;
  if (heard.rms <= 0.02) return `silence (RMS ${heard.rms})`;
  if (Math.abs(heard.roughFrequencyHz - 700) >= 60) return `${heard.roughFrequencyHz} Hz`;
  return 'the 700 Hz tone';
}
