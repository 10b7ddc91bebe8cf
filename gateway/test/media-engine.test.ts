/**
 * The media engine seam from the outside: the config names an engine module,
 * the gateway loads it and anchors calls on it; a module that cannot be loaded
 * or is no engine stops the start-up with a clear message.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isParleyError } from '@parley/shared/errors';
import { PortAllocator } from '@parley/testkit';
import { createMediaEngine } from '../src/media/index.js';
import { createLogger } from '../src/observability/index.js';
import { made } from './fixtures/counting-engine.js';
import { startTestGateway, type TestGateway } from './harness.js';
import { RawSipClient, inviteText } from './raw-sip.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const logger = createLogger('silent');
const SDP = [
  'v=0',
  'o=visitor 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');

describe('a media engine module', () => {
  const ports = new PortAllocator();
  let gw: TestGateway;
  let agentPhone: RawSipClient;
  let visitor: RawSipClient;
  let release: () => void;

  beforeAll(async () => {
    const media = await ports.allocate(16, { protocols: ['udp'], even: true });
    release = () => media.release();
    agentPhone = await RawSipClient.open();
    visitor = await RawSipClient.open();
    gw = await startTestGateway({
      // A fixed contact that never answers: the call rings there until cancelled.
      agents: [{ id: 'pbx', contact: `sip:pbx@127.0.0.1:${agentPhone.port}` }],
      config: {
        media: {
          address: '127.0.0.1',
          portMin: media.base,
          portMax: media.base + media.size - 1,
          engine: { module: fixture('counting-engine.ts') },
        },
      },
    });
  });
  afterAll(async () => {
    agentPhone?.close();
    visitor?.close();
    await gw?.close();
    release?.();
  });

  it('is loaded from the config and anchors the calls', async () => {
    expect(gw.gateway.media.kind).toBe('counting-relay');
    const before = made.routers;
    visitor.send(
      gw.udp,
      inviteText({
        to: `sales@${gw.udp}`,
        port: visitor.port,
        callId: 'engine-call-1',
        headers: [`Authorization: Bearer ${await gw.token()}`],
        sdp: SDP,
      }),
    );
    // The agent's INVITE carries an offer on the engine's ports.
    const offer = await agentPhone.waitFor((m) => m.type === 'request' && m.method === 'INVITE');
    expect(offer.body.toString()).toMatch(/^m=audio \d+ RTP\/AVP 0/m);
    expect(made.routers).toBe(before + 1);
    expect(gw.gateway.media.routerCount).toBe(1);
  });
});

describe('a media engine module that is not one', () => {
  const options = {
    address: '127.0.0.1',
    portMin: 30000,
    portMax: 30099,
    webrtcPortMin: 30100,
    webrtcPortMax: 30199,
    logger,
  };
  const refusal = async (module: string) => {
    try {
      await createMediaEngine({ module }, options);
    } catch (error) {
      if (isParleyError(error)) return { code: error.code, message: error.message };
      throw error;
    }
    throw new Error('expected a refusal');
  };

  it('stops the start-up when the file cannot be loaded', async () => {
    expect(await refusal(fixture('no-such-engine.ts'))).toMatchObject({
      code: 'invalid_config',
      message: expect.stringMatching(/media\.engine\.module .*no-such-engine\.ts: cannot load/),
    });
  });

  it('stops the start-up when the module exports no engine factory', async () => {
    expect(await refusal(fixture('not-an-engine.ts'))).toMatchObject({
      code: 'invalid_config',
      message: expect.stringMatching(/exports no createMediaEngine/),
    });
  });
});
