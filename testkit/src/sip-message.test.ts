import { describe, expect, it } from 'vitest';
import { distinctTransactions, parseSipMessage } from './sip-message.js';

const meta = { direction: 'in', transport: 'UDP', source: '', destination: '' } as const;

function request(method: string, branch: string, cseq: number): ReturnType<typeof parseSipMessage> {
  return parseSipMessage(
    [
      `${method} sip:agent@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch};rport`,
      `CSeq: ${cseq} ${method}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    meta,
  );
}

describe('distinctTransactions', () => {
  it('keeps one request per method and top Via branch, the first copy, in order', () => {
    const first = request('INVITE', 'z9hG4bK-1', 1);
    const retransmitted = request('INVITE', 'z9hG4bK-1', 1);
    const cancel = request('CANCEL', 'z9hG4bK-1', 1); // same branch, another method
    const second = request('INVITE', 'z9hG4bK-2', 2);
    const kept = distinctTransactions([first, retransmitted, cancel, second]);
    expect(kept).toEqual([first, cancel, second]);
  });

  it('keeps a request without a branch (nothing to match it on)', () => {
    const bare = parseSipMessage('OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n', meta);
    expect(distinctTransactions([bare, bare])).toHaveLength(2);
  });
});
