import { describe, expect, it } from 'vitest';
import { parseRtp } from './rtp-packet.js';
import { FLOOR_MS, OutboundStream } from './rtp-stream.js';
import { rtpPacket } from './test-phone.js';

const frame = Buffer.alloc(160, 0xff);
const own = (stream: OutboundStream, ts: number, now: number, marker = false) =>
  parseRtp(stream.own({ payloadType: 0, marker, timestamp: ts, payload: frame }, now))!;

describe('OutboundStream', () => {
  it('passes relayed packets unchanged until an application sends', () => {
    const stream = new OutboundStream(8000);
    const packet = rtpPacket(7, 0xd5, 0xabcdef01);
    const copy = Buffer.from(packet);
    expect(stream.relayed(packet, 0)).toBe(true);
    expect(packet.equals(copy)).toBe(true);
    expect(stream.rewriting).toBe(false);
  });

  it('continues the relayed SSRC, sequence and timestamp when an application takes over, and back', () => {
    const stream = new OutboundStream(8000);
    // The agent's stream: seq 100..102, ts 100*160.., SSRC 0xabcdef01, one every 20 ms.
    for (let i = 0; i < 3; i += 1) stream.relayed(rtpPacket(100 + i, 0xd5, 0xabcdef01), i * 20);
    // A prompt starts 20 ms after the last relayed packet, in its own timeline.
    const first = own(stream, 5000, 60, true);
    expect(first.ssrc).toBe(0xabcdef01);
    expect(first.sequenceNumber).toBe(103);
    expect(first.timestamp).toBe(102 * 160 + 160);
    expect(first.marker).toBe(true);
    const second = own(stream, 5160, 80);
    expect(second.sequenceNumber).toBe(104);
    expect(second.timestamp).toBe(102 * 160 + 320);
    expect(second.marker).toBe(false);
    // Relayed packets are dropped while the application has the floor...
    expect(stream.relayed(rtpPacket(103, 0xd5, 0xabcdef01), 80 + FLOOR_MS - 1)).toBe(false);
    // ...and rewritten into the same stream once it is over (the gap is the wall-clock time).
    const back = rtpPacket(110, 0xd5, 0xabcdef01);
    const at = 80 + FLOOR_MS + 20;
    expect(stream.relayed(back, at)).toBe(true);
    const view = parseRtp(back)!;
    expect(view.ssrc).toBe(0xabcdef01);
    expect(view.sequenceNumber).toBe(105);
    expect(view.timestamp).toBe(102 * 160 + 320 + ((at - 80) * 8000) / 1000);
    expect(view.marker).toBe(true);
    // Within one source the offsets hold: a lost packet stays a gap.
    const later = rtpPacket(112, 0xd5, 0xabcdef01);
    stream.relayed(later, at + 40);
    expect(parseRtp(later)!.sequenceNumber).toBe(107);
    expect(parseRtp(later)!.timestamp).toBe(view.timestamp + 2 * 160);
  });

  it('keeps one SSRC when the relayed source changes (a new agent) and re-anchors a new prompt', () => {
    const stream = new OutboundStream(8000);
    const a = own(stream, 0, 0, true);
    own(stream, 160, 20);
    const next = own(stream, 99_999, 40, true);
    expect(next.sequenceNumber).toBe((a.sequenceNumber + 2) & 0xffff);
    expect(next.timestamp).toBe((a.timestamp + 320) >>> 0);
    const relayed = rtpPacket(1, 0xd5, 0x11111111);
    stream.relayed(relayed, 40 + FLOOR_MS + 20);
    const view = parseRtp(relayed)!;
    expect(view.ssrc).toBe(a.ssrc);
    expect(view.sequenceNumber).toBe((a.sequenceNumber + 3) & 0xffff);
  });

  it('does not let a late packet pull the stream back', () => {
    const stream = new OutboundStream(8000);
    const start = own(stream, 0, 0, true);
    stream.relayed(rtpPacket(10, 0, 1), 200);
    stream.relayed(rtpPacket(12, 0, 1), 240);
    stream.relayed(rtpPacket(11, 0, 1), 245); // reordered: mapped behind 12
    const next = own(stream, 0, 260, true);
    // 10, 11, 12 became start+1..start+3; the prompt follows 12, not the late 11.
    expect(next.sequenceNumber).toBe((start.sequenceNumber + 4) & 0xffff);
  });
});
