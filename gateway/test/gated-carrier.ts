/**
 * The carrier's side of gated DID calls in sipp tests (`gated-trunk.sipp.test.ts`,
 * `gated-residents.sipp.test.ts`): a caller that keys DTMF as RFC 4733 and waits
 * for the gateway's BYE.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A carrier's caller: INVITE offering PCMU and telephone-event (PT 101), the
 * gateway's 200 ACKed, then `keys` as RFC 4733 presses 400 ms apart from 1 s
 * on (typed ahead: the gateway reads them as its prompts ask; no key twice
 * in a row: sipp replays a pcap with its RTP timestamp, so the same key again
 * would be the same event, RFC 4733 §2.5.1.1), then it waits
 * for the gateway's BYE (a refusal, or the test ending the call).
 */
export async function carrierScenario(work: string, name: string, keys: string): Promise<string> {
  const pcap = (k: string): string =>
    `/usr/share/sip-tester/dtmf_2833_${k === '#' ? 'pound' : k === '*' ? 'star' : k}.pcap`;
  const presses = [...keys]
    .map(
      (k) =>
        `  <nop><action><exec play_pcap_audio="${pcap(k)}" /></action></nop>\n  <pause milliseconds="400" />`,
    )
    .join('\n');
  const xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="${name}">
  <send retrans="500" start_txn="invite">
    <![CDATA[

      INVITE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:[field1]@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=carrier 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=ptime:20
      a=sendrecv

    ]]>
  </send>
  <recv response="100" optional="true" response_txn="invite" />
  <recv response="180" optional="true" response_txn="invite" />
  <recv response="183" optional="true" response_txn="invite" />
  <recv response="200" rtd="true" response_txn="invite" />
  <send ack_txn="invite">
    <![CDATA[

      ACK sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="1000" />
${presses}
  <recv request="BYE" timeout="120000" />
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
`;
  const file = join(work, `${name}.xml`);
  await writeFile(file, xml);
  return file;
}
