import { distinctTransactions, parseSipMessage, type SipMessage } from '@parley/testkit';

/** Reads what sipp received from its -trace_msg log. */
export interface ReceivedResponse {
  readonly status: number;
  readonly text: string;
  header(name: string): string | undefined;
}

export function responsesIn(messagesLog: string): ReceivedResponse[] {
  const blocks = messagesLog.split(/^-{10,}.*$/m);
  const out: ReceivedResponse[] = [];
  for (const block of blocks) {
    if (!/message received/.test(block)) continue;
    const match = /^SIP\/2\.0 (\d{3}) .*$/m.exec(block);
    if (!match) continue;
    const text = block.slice(match.index);
    out.push({
      status: Number(match[1]),
      text,
      header(name) {
        const line = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'im').exec(text);
        return line?.[1]?.trim();
      },
    });
  }
  return out;
}

/** The final response (≥ 200) to the INVITE, the first one sipp received. */
export function finalResponse(messagesLog: string): ReceivedResponse | undefined {
  return responsesIn(messagesLog).find(
    (r) => r.status >= 200 && /CSeq:\s*\d+ INVITE/i.test(r.text),
  );
}

/** Every message sipp received, parsed (requests and responses), in order. */
export function receivedIn(messagesLog: string): SipMessage[] {
  const out: SipMessage[] = [];
  for (const block of messagesLog.split(/^-{10,}.*$/m)) {
    if (!/message received/.test(block)) continue;
    const start = /^(SIP\/2\.0 \d{3}|[A-Z]+ \S+ SIP\/2\.0)/m.exec(block);
    if (!start) continue;
    const raw = block.slice(start.index).replace(/\s+$/, '\n');
    out.push(
      parseSipMessage(raw, { direction: 'in', transport: 'UDP', source: '', destination: '' }),
    );
  }
  return out;
}

/** The requests of one method sipp received, in order. */
export function requestsIn(messagesLog: string, method: string): SipMessage[] {
  return receivedIn(messagesLog).filter((m) => m.method === method);
}

/** The branch parameter of a message's top Via. */
export function branchOf(message: SipMessage): string | undefined {
  return /;branch=([^;,\s]+)/i.exec(message.header('via') ?? '')?.[1];
}

/** The requests of one method sipp received, one per transaction (retransmissions dropped). */
export function transactionsIn(messagesLog: string, method: string): SipMessage[] {
  return distinctTransactions(requestsIn(messagesLog, method));
}
