/**
 * Property tests for the SDP parser: whatever the input (random text, random
 * lines behind a valid header, mutations of real SDP), parseSdp either refuses
 * with ParleyError('bad_request') or returns an Sdp that formats, re-parses to
 * the same value, and survives every B2BUA helper. Generated well-formed SDP
 * round-trips byte for byte.
 */
import fc from 'fast-check';
import { ParleyError } from '@parley/shared/errors';
import { describe, expect, it } from 'vitest';
import {
  direction,
  formatSdp,
  mediaEndpoint,
  parseSdp,
  rewriteEndpoint,
  setDirection,
  type Sdp,
} from './index.js';

const RUNS = 2000;
const HEADER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n';
const SAMPLE = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 192.0.2.10',
  's=Talk',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'a=ice-ufrag:abcd',
  'm=audio 49170 RTP/AVP 0 8 101',
  'c=IN IP6 2001:db8::1',
  'a=rtcp:49175 IN IP4 192.0.2.11',
  'a=rtpmap:101 telephone-event/8000/1',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=candidate:1 1 udp 1 192.0.2.10 49170 typ host',
  'a=sendonly',
  'm=video 0 RTP/AVP 31',
  '',
].join('\r\n');

/** Refuses only with bad_request; otherwise the result is stable and usable. */
function check(text: string): void {
  let sdp: Sdp;
  try {
    sdp = parseSdp(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).code).toBe('bad_request');
    return;
  }
  const formatted = formatSdp(sdp);
  const again = parseSdp(formatted);
  expect(again).toEqual(sdp);
  expect(formatSdp(again)).toBe(formatted);
  for (let i = 0; i <= sdp.media.length; i++) {
    mediaEndpoint(sdp, i);
    direction(sdp, i);
  }
  for (let i = 0; i < sdp.media.length; i++) {
    const rewritten = rewriteEndpoint(sdp, i, {
      address: '10.0.0.1',
      rtpPort: 30000,
      rtcpPort: 30001,
    });
    expect(parseSdp(formatSdp(rewritten))).toEqual(rewritten);
    expect(mediaEndpoint(rewritten, i)).toMatchObject({ address: '10.0.0.1', rtpPort: 30000 });
    // Nothing ICE left where this section reads (its own lines, the session level).
    const ice = (l: Sdp['session'][number]): boolean =>
      l.kind === 'attribute' && (l.name === 'candidate' || l.name.startsWith('ice-'));
    expect(rewritten.session.some(ice) || rewritten.media[i]!.lines.some(ice)).toBe(false);
    parseSdp(formatSdp(setDirection(rewritten, 'inactive', i)));
  }
}

const fragment = fc.constantFrom(
  'IN',
  'IP4',
  'IP6',
  '127.0.0.1',
  '0.0.0.0',
  '::1',
  'RTP/AVP',
  'udptl',
  'audio',
  'rtpmap:',
  'fmtp:',
  'rtcp:',
  'ptime:',
  'sendonly',
  'inactive',
  'candidate:',
  'ice-pwd:',
  'group:BUNDLE',
  'PCMU/8000',
  '/',
  ':',
  ' ',
  '  ',
  '0',
  '8',
  '101',
  '127',
  '128',
  '65535',
  '65536',
  '-1',
  '1.5',
  '\t',
  '\r',
  '\0',
  'é',
  '😀',
);
const value = fc
  .array(fc.oneof(fragment, fc.string({ maxLength: 4 })), { maxLength: 8 })
  .map((a) => a.join(''));
const number = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 127 }).map(String) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 70000 }).map(String) },
  fc.constantFrom('', '-1', '1.5', '007', '99999999999', 'x'),
);
const address = fc.oneof(
  { weight: 6, arbitrary: fc.ipV4() },
  { weight: 2, arbitrary: fc.ipV6() },
  fc.constantFrom('0.0.0.0', '::', 'pbx.example.com', '1.2.3', '233.252.0.1/127/2'),
);
/** Lines close to valid SDP, so many inputs get past the grammar and reach the helpers. */
const nearlyValid = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('audio', 'audio', 'video', 'image', ''),
      number,
      fc.constantFrom('RTP/AVP', 'udptl', 'UDP/TLS/RTP/SAVPF'),
      fc.array(number, { minLength: 1, maxLength: 4 }),
    )
    .map(([m, port, proto, pts]) => `m=${m} ${port} ${proto} ${pts.join(' ')}`),
  fc
    .tuple(fc.constantFrom('IP4', 'IP4', 'IP4', 'IP6', 'IPX'), address)
    .map(([t, a]) => `c=IN ${t} ${a}`),
  fc
    .tuple(
      number,
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom('PCMU', 'opus', 'telephone-event') }, value),
      number,
    )
    .map(([pt, n, r]) => `a=rtpmap:${pt} ${n}/${r}`),
  fc.tuple(number, value).map(([pt, p]) => `a=fmtp:${pt} ${p}`),
  fc
    .tuple(number, fc.option(address))
    .map(([p, a]) => `a=rtcp:${p}${a === null ? '' : ` IN IP4 ${a}`}`),
  number.map((n) => `a=ptime:${n}`),
  fc.constantFrom(
    'a=sendrecv',
    'a=sendonly',
    'a=recvonly',
    'a=inactive',
    'a=rtcp-mux',
    'a=ice-ufrag:x',
  ),
  fc.constantFrom(
    'a=candidate:1 1 udp 1 10.0.0.1 9 typ host',
    'a=group:BUNDLE 0',
    't=0 0',
    'b=AS:64',
  ),
);
const randomLine = fc
  .tuple(fc.constantFrom(...'vosicbtmakzrXA1= '.split('')), value)
  .map(([type, v]) => `${type}=${v}`);
const line = fc.oneof({ weight: 15, arbitrary: nearlyValid }, { weight: 1, arbitrary: randomLine });

describe('parseSdp fuzz', () => {
  it('never throws anything but bad_request on random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300, unit: 'binary' }), check), {
      numRuns: RUNS / 4,
    });
  });

  it('never throws anything but bad_request on random lines behind a valid header', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.constantFrom('\r\n', '\n'), (lines, eol) =>
        check(HEADER + lines.join(eol) + eol),
      ),
      { numRuns: RUNS },
    );
  });

  it('never throws anything but bad_request on mutations of real SDP', () => {
    const mutation = fc.oneof(
      fc.record({
        at: fc.nat(SAMPLE.length),
        text: fc.oneof(fragment, fc.string({ maxLength: 3 })),
      }),
      fc.record({ at: fc.nat(SAMPLE.length), drop: fc.integer({ min: 1, max: 12 }) }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        let text = SAMPLE;
        for (const m of mutations) {
          text =
            'text' in m
              ? text.slice(0, m.at) + m.text + text.slice(m.at)
              : text.slice(0, m.at) + text.slice(m.at + m.drop);
        }
        check(text);
      }),
      { numRuns: RUNS },
    );
  });

  it('round-trips generated well-formed SDP byte for byte', () => {
    const token = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,8}$/);
    const ip4 = fc.ipV4();
    const attribute = fc.oneof(
      fc
        .tuple(fc.integer({ min: 0, max: 127 }), token, fc.integer({ min: 1, max: 96000 }))
        .map(([pt, name, rate]) => `a=rtpmap:${pt} ${name}/${rate}`),
      fc.tuple(fc.integer({ min: 0, max: 127 }), token).map(([pt, p]) => `a=fmtp:${pt} ${p}=1;x=2`),
      fc.integer({ min: 1, max: 200 }).map((ms) => `a=ptime:${ms}`),
      fc.constantFrom('a=sendrecv', 'a=sendonly', 'a=recvonly', 'a=inactive', 'a=rtcp-mux'),
      fc.tuple(fc.integer({ min: 0, max: 65535 }), ip4).map(([p, a]) => `a=rtcp:${p} IN IP4 ${a}`),
      ip4.map((a) => `c=IN IP4 ${a}`),
      fc
        .tuple(
          token,
          fc.string({ maxLength: 12 }).filter((s) => !/[\0\r\n]/.test(s)),
        )
        .map(([n, v]) => `a=X-${n}:${v}`),
      fc
        .string({ maxLength: 12 })
        .filter((s) => !/[\0\r\n]/.test(s))
        .map((v) => `b=${v}`),
    );
    const media = fc
      .tuple(
        fc.constantFrom('audio', 'video'),
        fc.integer({ min: 0, max: 65535 }),
        fc.array(fc.integer({ min: 0, max: 127 }), { minLength: 1, maxLength: 5 }),
        fc.array(attribute, { maxLength: 6 }),
      )
      .map(([kind, port, pts, attrs]) => [`m=${kind} ${port} RTP/AVP ${pts.join(' ')}`, ...attrs]);
    fc.assert(
      fc.property(
        fc.tuple(token, fc.bigInt({ min: 0n, max: 2n ** 64n }), ip4),
        fc.array(attribute, { maxLength: 4 }),
        fc.array(media, { maxLength: 3 }),
        ([user, version, address], session, sections) => {
          const text = `${[
            'v=0',
            `o=${user} 42 ${version} IN IP4 ${address}`,
            's=-',
            't=0 0',
            ...session,
            ...sections.flat(),
          ].join('\r\n')}\r\n`;
          expect(formatSdp(parseSdp(text))).toBe(text);
          check(text);
        },
      ),
      { numRuns: RUNS / 2 },
    );
  });
});
