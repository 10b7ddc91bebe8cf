/**
 * Attack (issue 17 item 6): input that reaches SIP. A tenant's API key stores
 * an agent whose contact or display name carries CR/LF (header injection),
 * whose contact carries URI headers (`?X-Hdr-Inject=1`, copied into the
 * agent INVITE's Request-URI), or that points at a host the operator did not
 * allow. Each must be refused and nothing stored; the config file's agents
 * are held to the same rules at start-up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { API_KEY, startTestGateway, type TestGateway } from './harness.js';

const ACME_KEY = 'acme-key-0123456789abcdef';
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    tenantExtra: { agentContactHosts: ['127.0.0.0/8', 'pbx.acme.test', '*.trunks.acme.test'] },
    config: {
      api: {
        keys: [
          { id: 'test', key: API_KEY, privateClaims: true },
          { id: 'acme', key: ACME_KEY, tenant: 'acme' },
        ],
      },
    },
  });
});
afterAll(async () => {
  await gw?.close();
});

async function put(id: string, extra: Record<string, unknown>) {
  const res = await fetch(`${gw.gateway.httpUrl}/v1/agents/${id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ACME_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ password: 'long enough secret', queues: ['sales'], ...extra }),
  });
  return { status: res.status, body: (await res.json()) as { error?: { detail?: string } } };
}

describe('agent input that would reach SIP', () => {
  it.each([
    ['a contact with CR/LF', { contact: 'sip:2001@127.0.0.1\r\nX-Injected: 1' }, /^contact:/],
    ['a contact with URI headers', { contact: 'sip:2001@127.0.0.1?X-Hdr-Inject=1' }, /^contact:/],
    ['a contact with a password', { contact: 'sip:2001:pw@127.0.0.1' }, /^contact:/],
    ['a contact that is no SIP URI', { contact: 'sip:' }, /^contact:/],
    ['a display name with CR/LF', { displayName: 'Ada\r\nX-Injected: 1' }, /^displayName:/],
    ['a display name with a NUL', { displayName: 'Ada\u0000' }, /^displayName:/],
    [
      'a contact on a host not allowed',
      { contact: 'sip:2001@192.0.2.7:5060' },
      /agentContactHosts/,
    ],
    ['a contact on a name not allowed', { contact: 'sip:2001@evil.test' }, /agentContactHosts/],
  ])('refuses %s', async (_what, extra, detail) => {
    const answer = await put('acme.ada', extra);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.detail).toMatch(detail);
    expect((await gw.api('/v1/agents/acme.ada')).status).toBe(404);
  });

  it.each([
    ['an allowed address', 'sip:2001@127.0.0.1:5070;transport=tcp'],
    ['an allowed name', 'sip:2001@pbx.acme.test'],
    ['a name under an allowed domain', 'sips:2001@east.trunks.acme.test:5061'],
  ])('accepts a contact on %s', async (_what, contact) => {
    const answer = await put('acme.bea', { contact, displayName: 'Bea Ö. Smith' });
    expect(answer.status).toBeLessThan(300);
  });

  it("holds the config file's agents to the same rules", () => {
    const base = {
      gatewayId: 'gw',
      tokens: { encryptionKeys: [{ kty: 'EC' }] },
      tenants: { acme: {} },
      queues: { sales: { tenant: 'acme' } },
    };
    const agent = { id: 'a1', tenant: 'acme', password: 'secret', queues: ['sales'] };
    expect(() =>
      loadConfig({
        input: { ...base, agents: [{ ...agent, contact: 'sip:2001@pbx?X-Hdr-Inject=1' }] },
      }),
    ).toThrow(/contact/);
    expect(() =>
      loadConfig({ input: { ...base, agents: [{ ...agent, displayName: 'A\nB' }] } }),
    ).toThrow(/displayName/);
  });
});
