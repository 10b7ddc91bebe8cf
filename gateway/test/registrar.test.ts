/**
 * The registrar on the wire: digest with SHA-256 (answered with our own digest
 * code: no SHA-256 SIP phone ships in Debian) and MD5, several contacts,
 * expiry, Expires: 0, the wildcard, 423, and refusals. baresip's MD5
 * registration over UDP and TCP is covered by the calls tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answerDigestChallenge,
  formatDigestCredentials,
  parseDigestChallenge,
  type SipResponse,
} from '../src/sip/message/index.js';
import { startTestGateway, type TestGateway } from './harness.js';
import { RawSipClient } from './raw-sip.js';

let gw: TestGateway;
let client: RawSipClient;

beforeAll(async () => {
  gw = await startTestGateway({
    agents: [{ id: 'agent1', digestAlgorithms: ['SHA-256', 'MD5'] }, { id: 'agent2' }],
    config: {
      sip: {
        domain: 'parley.test',
        listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
        registration: { minExpires: 1, maxExpires: 3600, defaultExpires: 3600 },
        rateLimit: { perSecond: 1000, burst: 2000 },
      },
    },
  });
  client = await RawSipClient.open();
});
afterAll(async () => {
  client.close();
  await gw.close();
});

interface AgentView {
  id: string;
  registered: boolean;
  contacts: { uri: string }[];
}
const agentView = async (id: string) =>
  (await gw.api<{ agents: AgentView[] }>('/v1/agents')).body.agents.find((a) => a.id === id)!;

const register = (user: string, contacts: string[], extra: string[] = [], callId?: string) =>
  client.registerText(user, contacts, extra, callId);

/** REGISTER, answer the challenge with `algorithm`, return the final response. */
const registerWithAuth = (
  user: string,
  password: string,
  contacts: string[],
  extra: string[] = [],
  algorithm = 'SHA-256',
): Promise<SipResponse> => {
  return client.register(gw.udp, user, password, contacts, extra, algorithm);
};

describe('registrar', () => {
  it('challenges with SHA-256 first, then MD5 (RFC 8760), and accepts SHA-256', async () => {
    const response = await registerWithAuth('agent1', 'secret', [
      '<sip:agent1-a@127.0.0.1:5099>;expires=120',
    ]);
    expect(response.status).toBe(200);
    expect(response.headers.get('contact')).toMatch(
      /<sip:agent1-a@127\.0\.0\.1:5099>;expires=1[12]\d/,
    );
    expect(await agentView('agent1')).toMatchObject({
      registered: true,
      contacts: [{ uri: 'sip:agent1-a@127.0.0.1:5099' }],
    });
  });

  it('accepts MD5, and keeps several contacts per agent', async () => {
    const response = await registerWithAuth(
      'agent1',
      'secret',
      ['<sip:agent1-b@127.0.0.1:5098>'],
      ['Expires: 300'],
      'MD5',
    );
    expect(response.status).toBe(200);
    expect(response.headers.getAll('contact').length).toBe(2);
    expect((await agentView('agent1')).contacts.map((c) => c.uri).sort()).toEqual([
      'sip:agent1-a@127.0.0.1:5099',
      'sip:agent1-b@127.0.0.1:5098',
    ]);
  });

  it('removes one contact with expires=0 and all with Contact: * / Expires: 0', async () => {
    let response = await registerWithAuth(
      'agent1',
      'secret',
      ['<sip:agent1-a@127.0.0.1:5099>;expires=0'],
      [],
      'MD5',
    );
    expect(response.headers.getAll('contact').length).toBe(1);
    response = await registerWithAuth('agent1', 'secret', ['*'], ['Expires: 0'], 'MD5');
    expect(response.status).toBe(200);
    expect(await agentView('agent1')).toMatchObject({ registered: false, contacts: [] });
  });

  it('forgets a binding when it expires', async () => {
    expect(
      (
        await registerWithAuth(
          'agent1',
          'secret',
          ['<sip:agent1-c@127.0.0.1:5097>;expires=1'],
          [],
          'MD5',
        )
      ).status,
    ).toBe(200);
    expect((await agentView('agent1')).registered).toBe(true);
    await new Promise((r) => setTimeout(r, 2200));
    expect((await agentView('agent1')).registered).toBe(false);
  });

  it('refuses a wrong password (403), a foreign AOR (403) and answers 423 below the minimum', async () => {
    expect(
      (await registerWithAuth('agent1', 'wrong', ['<sip:x@127.0.0.1:5096>'], [], 'MD5')).status,
    ).toBe(403);
    const foreign = await registerWithAuth(
      'agent2',
      'secret',
      ['<sip:x@127.0.0.1:5096>'],
      [],
      'MD5',
    );
    expect(foreign.status).toBe(200);
    // agent2 may not register agent1's address of record with its own credentials.
    client.send(gw.udp, register('agent1', ['<sip:x@127.0.0.1:5096>']));
    const challenge = (await client.waitFor(
      (m) => m.type === 'response' && m.cseq.seq === client.cseq,
    )) as SipResponse;
    const chosen = challenge.headers.getAll('www-authenticate').map(parseDigestChallenge)[0]!;
    const creds = answerDigestChallenge(chosen, {
      username: 'agent2',
      password: 'secret',
      method: 'REGISTER',
      uri: 'sip:parley.test',
      cnonce: 'c1',
      nc: 1,
    });
    client.send(
      gw.udp,
      register(
        'agent1',
        ['<sip:x@127.0.0.1:5096>'],
        [`Authorization: ${formatDigestCredentials(creds)}`],
      ),
    );
    const refused = (await client.waitFor(
      (m) => m.type === 'response' && m.cseq.seq === client.cseq,
    )) as SipResponse;
    expect(refused.status).toBe(403);
  });

  it('answers credentials for a nonce it did not make with a fresh challenge', async () => {
    client.send(gw.udp, register('agent2', ['<sip:y@127.0.0.1:5095>']));
    const challenge = (await client.waitFor(
      (m) => m.type === 'response' && m.cseq.seq === client.cseq,
    )) as SipResponse;
    const chosen = parseDigestChallenge(challenge.headers.getAll('www-authenticate')[0]!);
    const forged = {
      ...chosen,
      nonce: `${(Date.now() - 600_000).toString(36)}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
    };
    const creds = answerDigestChallenge(forged, {
      username: 'agent2',
      password: 'secret',
      method: 'REGISTER',
      uri: 'sip:parley.test',
      cnonce: 'c2',
      nc: 1,
    });
    client.send(
      gw.udp,
      register(
        'agent2',
        ['<sip:y@127.0.0.1:5095>'],
        [`Authorization: ${formatDigestCredentials(creds)}`],
      ),
    );
    const again = (await client.waitFor(
      (m) => m.type === 'response' && m.cseq.seq === client.cseq,
    )) as SipResponse;
    expect(again.status).toBe(401);
  });
});
