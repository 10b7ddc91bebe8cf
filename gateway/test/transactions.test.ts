/**
 * RFC 3261 §17 timers seen from the wire, with T1 = 100 ms: a raw UDP client
 * that does not ACK sees the final response retransmitted (Timer G) until
 * Timer H; a retransmitted INVITE gets the last response again; an ACK stops
 * it; and every transaction is gone afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';
import { RawSipClient, inviteText } from './raw-sip.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('server INVITE transaction over UDP', () => {
  it('retransmits a final response with doubling intervals until Timer H, then forgets it', async () => {
    const client = await RawSipClient.open();
    try {
      client.send(gw.udp, inviteText({ to: `sales@${gw.udp}`, port: client.port }));
      await client.waitFor((m) => m.type === 'response' && m.status === 401);
      // T1 = 100 ms: G fires at 100, 300, 700, 1500, 3100 ms; H at 6400 ms.
      await sleep(3400);
      const finals = client.responses(401);
      expect(finals.length).toBeGreaterThanOrEqual(5);
      expect(finals.length).toBeLessThanOrEqual(7);
      const gaps = client.received
        .filter((r) => r.message.type === 'response' && r.message.status === 401)
        .map((r, i, all) => (i === 0 ? 0 : r.at - all[i - 1]!.at));
      expect(gaps[2]!).toBeGreaterThan(gaps[1]! * 1.5);
      expect(client.responses(100).length).toBe(1);
      await sleep(3300);
      expect(gw.gateway.stack.transactions.stats().server).toBe(0);
    } finally {
      client.close();
    }
  }, 15_000);

  it('answers a retransmitted INVITE from the transaction, and an ACK stops the retransmissions', async () => {
    const client = await RawSipClient.open();
    try {
      const invite = inviteText({
        to: `sales@${gw.udp}`,
        port: client.port,
        branch: 'z9hG4bK-retrans-1',
        callId: 'retrans-1',
      });
      client.send(gw.udp, invite);
      const final = await client.waitFor((m) => m.type === 'response' && m.status === 401);
      client.send(gw.udp, invite);
      await sleep(50);
      expect(client.responses(401).length).toBeGreaterThanOrEqual(2);
      const toTag = final.type === 'response' ? final.to.tag : '';
      client.send(
        gw.udp,
        [
          `ACK sip:sales@${gw.udp} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bK-retrans-1;rport`,
          `From: <sip:visitor@127.0.0.1:${client.port}>;tag=${final.from.tag}`,
          `To: <sip:sales@${gw.udp}>;tag=${toTag}`,
          'Call-ID: retrans-1',
          'CSeq: 1 ACK',
          'Max-Forwards: 70',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
      await sleep(100);
      const count = client.responses(401).length;
      await sleep(1600);
      expect(client.responses(401).length).toBe(count);
      // Timer I (T4 = 5 s) ends the Confirmed transaction.
    } finally {
      client.close();
    }
  });
});
