import { ParleyError } from '@parley/shared/errors';
import { describe, expect, it } from 'vitest';
import {
  bumpVersion,
  continueOrigin,
  direction,
  formatSdp,
  mediaEndpoint,
  parseSdp,
  rewriteEndpoint,
  setDirection,
  type Sdp,
} from './index.js';

const crlf = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;

/** What a desk phone sends (session-level c=, static and dynamic payload types, unknown lines). */
const PHONE = crlf([
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 192.0.2.10',
  's=Talk',
  'i=A call',
  'c=IN IP4 192.0.2.10',
  'b=AS:84',
  't=0 0',
  'a=X-vendor:thing with spaces',
  'm=audio 49170 RTP/AVP 0 8 9 101',
  'b=TIAS:64000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
  'a=maxptime:150',
]);

/** What a browser sends (ICE, BUNDLE, rtcp-mux, media-level c=, IPv4 host candidates). */
const BROWSER = crlf([
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=extmap-allow-mixed',
  'a=ice-options:trickle',
  'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1 1 udp 2122260223 192.168.1.20 54321 typ host generation 0',
  'a=candidate:2 1 udp 1686052607 203.0.113.7 61000 typ srflx raddr 192.168.1.20 rport 54321',
  'a=end-of-candidates',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789abcdefghijklmn',
  'a=fingerprint:sha-256 AA:BB',
  'a=setup:actpass',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:0 PCMU/8000',
]);

describe('parseSdp / formatSdp', () => {
  it('parses the structure and round-trips every line unchanged', () => {
    const sdp = parseSdp(PHONE);
    expect(sdp.origin).toEqual({
      username: 'alice',
      sessionId: '2890844526',
      sessionVersion: '2890844526',
      addressType: 'IP4',
      address: '192.0.2.10',
    });
    expect(sdp.sessionName).toBe('Talk');
    expect(sdp.session).toContainEqual({
      kind: 'connection',
      connection: { addressType: 'IP4', address: '192.0.2.10' },
    });
    expect(sdp.session).toContainEqual({ kind: 'other', type: 'b', value: 'AS:84' });
    expect(sdp.session).toContainEqual({
      kind: 'attribute',
      name: 'X-vendor',
      value: 'thing with spaces',
    });
    const m = sdp.media[0]!;
    expect(m).toMatchObject({
      media: 'audio',
      port: 49170,
      proto: 'RTP/AVP',
      formats: ['0', '8', '9', '101'],
    });
    expect(m.lines).toEqual([
      { kind: 'other', type: 'b', value: 'TIAS:64000' },
      { kind: 'rtpmap', pt: 101, name: 'telephone-event', clockRate: 8000 },
      { kind: 'fmtp', format: '101', parameters: '0-15' },
      { kind: 'ptime', ms: 20 },
      { kind: 'direction', direction: 'sendrecv' },
      { kind: 'attribute', name: 'maxptime', value: '150' },
    ]);
    expect(formatSdp(sdp)).toBe(PHONE);
    expect(formatSdp(parseSdp(BROWSER))).toBe(BROWSER);
  });

  it('accepts bare LF and writes CRLF', () => {
    expect(formatSdp(parseSdp(PHONE.replaceAll('\r\n', '\n')))).toBe(PHONE);
  });

  it('keeps multicast suffixes, port counts, IPv6 and a=rtcp with an address', () => {
    const text = crlf([
      'v=0',
      'o=- 1 1 IN IP6 2001:db8::1',
      's= ',
      'c=IN IP4 233.252.0.1/127/2',
      't=0 0',
      'm=video 51372/2 RTP/AVP 99',
      'c=IN IP6 2001:db8::2',
      'a=rtcp:53020 IN IP6 2001:db8::3',
      'a=rtpmap:99 h263-1998/90000',
    ]);
    const sdp = parseSdp(text);
    expect(sdp.media[0]).toMatchObject({ port: 51372, portCount: 2 });
    expect(formatSdp(sdp)).toBe(text);
  });

  it.each([
    ['empty', ''],
    ['no v=', 'o=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n'],
    ['v=1', 'v=1\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n'],
    ['short o=', 'v=0\r\no=- 1 IN IP4 127.0.0.1\r\ns=-\r\n'],
    ['o= version not a number', 'v=0\r\no=- 1 x IN IP4 127.0.0.1\r\ns=-\r\n'],
    ['s= missing', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nt=0 0\r\n'],
    ['not type=value', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nhello\r\n'],
    ['uppercase type', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nA=b\r\n'],
    ['blank line inside', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n\r\ns=-\r\n'],
    ['c= host name', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 pbx.example.com\r\n'],
    ['c= wrong family', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 ::1\r\n'],
    ['m= port too big', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 70000 RTP/AVP 0\r\n'],
    ['m= no format', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 4000 RTP/AVP\r\n'],
    [
      't= after m=',
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\nt=0 0\r\n',
    ],
    [
      'rtpmap pt 128',
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 4 RTP/AVP 0\r\na=rtpmap:128 X/8000\r\n',
    ],
    [
      'rtpmap no rate',
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 4 RTP/AVP 0\r\na=rtpmap:96 opus\r\n',
    ],
    ['bad a=rtcp', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 4 RTP/AVP 0\r\na=rtcp:x\r\n'],
    ['NUL', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=\0\r\n'],
    ['lone CR', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\rc=IN IP4 1.2.3.4\r\n'],
    ['too large', `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n${'a=x\r\n'.repeat(20000)}`],
  ])('refuses %s with bad_request', (_name, text) => {
    const error = (() => {
      try {
        parseSdp(text);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).code).toBe('bad_request');
  });

  it('refuses to format a field that would inject a line', () => {
    const sdp = parseSdp(PHONE);
    expect(() => formatSdp({ ...sdp, sessionName: 'x\r\nc=IN IP4 6.6.6.6' })).toThrow(ParleyError);
  });
});

describe('mediaEndpoint', () => {
  it('reads address (session c=), ports, direction and codecs', () => {
    expect(mediaEndpoint(parseSdp(PHONE))).toEqual({
      address: '192.0.2.10',
      addressType: 'IP4',
      rtpPort: 49170,
      rtcpPort: 49171,
      rtcpMux: false,
      direction: 'sendrecv',
      rejected: false,
      payloadTypes: [0, 8, 9, 101],
      codecs: [
        { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: undefined },
        { pt: 8, name: 'PCMA', clockRate: 8000, channels: 1, fmtp: undefined },
        { pt: 9, name: 'G722', clockRate: 8000, channels: 1, fmtp: undefined },
        { pt: 101, name: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-15' },
      ],
      ptime: 20,
    });
    expect(mediaEndpoint(parseSdp(PHONE), 1)).toBeUndefined();
  });

  it('prefers the media c= and a=rtcp, and reports rtcp-mux', () => {
    const text = crlf([
      'v=0',
      'o=- 1 1 IN IP4 198.51.100.1',
      's=-',
      'c=IN IP4 198.51.100.1',
      't=0 0',
      'm=audio 7000 RTP/AVP 96',
      'c=IN IP4 198.51.100.2',
      'a=rtcp:7005',
      'a=rtcp-mux',
      'a=rtpmap:96 opus/48000/2',
      'a=recvonly',
    ]);
    expect(mediaEndpoint(parseSdp(text))).toMatchObject({
      address: '198.51.100.2',
      rtpPort: 7000,
      rtcpPort: 7005,
      rtcpMux: true,
      direction: 'recvonly',
      codecs: [{ pt: 96, name: 'opus', clockRate: 48000, channels: 2, fmtp: undefined }],
    });
  });

  it('reports a rejected stream (port 0), old-style hold and non-RTP media', () => {
    const text = crlf([
      'v=0',
      'o=- 1 1 IN IP4 198.51.100.1',
      's=-',
      'c=IN IP4 0.0.0.0',
      't=0 0',
      'm=audio 7000 RTP/AVP 0',
      'm=video 0 RTP/AVP 31',
      'm=image 7002 udptl t38',
      'a=recvonly',
    ]);
    const sdp = parseSdp(text);
    expect(mediaEndpoint(sdp, 0)).toMatchObject({ address: '0.0.0.0', direction: 'sendonly' });
    expect(mediaEndpoint(sdp, 1)).toMatchObject({ rejected: true, rtpPort: 0, rtcpPort: 0 });
    expect(mediaEndpoint(sdp, 2)).toMatchObject({
      payloadTypes: [],
      codecs: [],
      direction: 'inactive', // recvonly + c=0.0.0.0
    });
  });

  it('does not take the ICE placeholder c=0.0.0.0 for a hold', () => {
    expect(mediaEndpoint(parseSdp(BROWSER))).toMatchObject({
      address: '0.0.0.0',
      rtpPort: 9,
      rtcpPort: 9,
      rtcpMux: true,
      direction: 'sendrecv',
    });
  });

  it('is undefined without any c=', () => {
    const sdp = parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 1.2.3.4', 's=-', 'm=audio 4000 RTP/AVP 0']));
    expect(mediaEndpoint(sdp)).toBeUndefined();
  });
});

describe('rewriteEndpoint', () => {
  const ours = { address: '203.0.113.50', rtpPort: 30000, rtcpPort: 30001 };

  it('points the stream at us and drops ICE and BUNDLE, keeping rtcp-mux', () => {
    const out = formatSdp(rewriteEndpoint(parseSdp(BROWSER), 0, ours));
    expect(out).toBe(
      crlf([
        'v=0',
        'o=- 4611731400430051336 2 IN IP4 203.0.113.50',
        's=-',
        't=0 0',
        'a=extmap-allow-mixed',
        'a=msid-semantic: WMS',
        'm=audio 30000 UDP/TLS/RTP/SAVPF 111 0',
        'c=IN IP4 203.0.113.50',
        'a=rtcp:30001 IN IP4 203.0.113.50',
        'a=fingerprint:sha-256 AA:BB',
        'a=setup:actpass',
        'a=mid:0',
        'a=sendrecv',
        'a=rtcp-mux',
        'a=rtpmap:111 opus/48000/2',
        'a=fmtp:111 minptime=10;useinbandfec=1',
        'a=rtpmap:0 PCMU/8000',
      ]),
    );
    expect(out).not.toMatch(/192\.168|203\.0\.113\.7|127\.0\.0\.1|candidate|ice-/);
  });

  it("drops the other side's software (a=tool) and RTCP CNAMEs (a=ssrc)", () => {
    const baresip = crlf([
      'v=0',
      'o=- 2357586264 1239026596 IN IP4 192.0.2.10',
      's=-',
      'c=IN IP4 192.0.2.10',
      't=0 0',
      'a=tool:baresip 1.0.0',
      'm=audio 29372 RTP/AVP 0 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=sendrecv',
      'a=ssrc-group:FID 1 2',
      'a=ssrc:89357495 cname:sip:agent1@pbx.example',
    ]);
    const out = formatSdp(rewriteEndpoint(parseSdp(baresip), 0, ours));
    expect(out).not.toMatch(/tool|baresip|ssrc|agent1|pbx\.example/);
    expect(out).toContain('a=rtpmap:101 telephone-event/8000');
  });

  it('rewrites the session c= a section relies on, and no address of the other side remains', () => {
    const out = rewriteEndpoint(parseSdp(PHONE), 0, ours);
    expect(formatSdp(out)).not.toContain('192.0.2.10');
    expect(mediaEndpoint(out)).toMatchObject({
      address: ours.address,
      rtpPort: 30000,
      rtcpPort: 30001,
    });
    expect(out.media[0]!.lines.some((l) => l.kind === 'connection')).toBe(false);
    // Codecs and everything else untouched.
    expect(mediaEndpoint(out)?.codecs).toEqual(mediaEndpoint(parseSdp(PHONE))?.codecs);
    expect(out.session.filter((l) => l.kind !== 'connection')).toEqual(
      parseSdp(PHONE).session.filter((l) => l.kind !== 'connection'),
    );
  });

  it('adds c= when there was none, a=rtcp when RTCP is not on the next port, and chooses IP6', () => {
    const sdp = parseSdp(
      crlf(['v=0', 'o=- 1 1 IN IP4 1.2.3.4', 's=-', 'm=audio 4000 RTP/AVP 0', 'i=x']),
    );
    const out = rewriteEndpoint(sdp, 0, {
      address: '2001:db8::9',
      rtpPort: 30000,
      rtcpPort: 30011,
    });
    expect(formatSdp(out)).toBe(
      crlf([
        'v=0',
        'o=- 1 1 IN IP6 2001:db8::9',
        's=-',
        'm=audio 30000 RTP/AVP 0',
        'i=x',
        'c=IN IP6 2001:db8::9',
        'a=rtcp:30011',
      ]),
    );
  });

  it('turns an old-style hold into the direction it meant', () => {
    const held = parseSdp(PHONE.replace('c=IN IP4 192.0.2.10', 'c=IN IP4 0.0.0.0'));
    expect(direction(held)).toBe('sendonly');
    const out = rewriteEndpoint(held, 0, ours);
    expect(direction(out)).toBe('sendonly');
    expect(mediaEndpoint(out)?.address).toBe(ours.address);
  });

  it('bumps the version when asked', () => {
    const out = rewriteEndpoint(parseSdp(PHONE), 0, ours, { bumpVersion: true });
    expect(out.origin.sessionVersion).toBe('2890844527');
    expect(out.origin.sessionId).toBe('2890844526');
  });

  it('refuses a missing section or a non-IP address', () => {
    expect(() => rewriteEndpoint(parseSdp(PHONE), 1, ours)).toThrow(ParleyError);
    expect(() => rewriteEndpoint(parseSdp(PHONE), 0, { ...ours, address: 'gw.example' })).toThrow(
      ParleyError,
    );
  });
});

describe('direction / setDirection', () => {
  it('inherits the session-level direction and overrides per section', () => {
    const sdp = parseSdp(
      crlf([
        'v=0',
        'o=- 1 1 IN IP4 1.2.3.4',
        's=-',
        'c=IN IP4 1.2.3.4',
        'a=sendonly',
        'm=audio 4 RTP/AVP 0',
        'm=video 6 RTP/AVP 31',
        'a=inactive',
      ]),
    );
    expect(direction(sdp, 0)).toBe('sendonly');
    expect(direction(sdp, 1)).toBe('inactive');
    const held = setDirection(sdp, 'recvonly', 0);
    expect(direction(held, 0)).toBe('recvonly');
    expect(direction(held, 1)).toBe('inactive');
    const all = setDirection(sdp, 'sendrecv');
    expect(all.session.some((l) => l.kind === 'direction')).toBe(false);
    expect([direction(all, 0), direction(all, 1)]).toEqual(['sendrecv', 'sendrecv']);
    // One direction line per section, in place of the old one.
    const text = formatSdp(setDirection(parseSdp(PHONE), 'inactive'));
    expect(text).toContain('a=ptime:20\r\na=inactive\r\na=maxptime:150');
    expect(text.match(/a=(sendrecv|inactive)/g)).toEqual(['a=inactive']);
  });
});

describe('versions', () => {
  it('bumps beyond 2^53 exactly', () => {
    const sdp = parseSdp(PHONE.replace('2890844526 IN', '18446744073709551615 IN'));
    expect(bumpVersion(sdp).origin.sessionVersion).toBe('18446744073709551616');
  });

  it('continueOrigin keeps the leg’s origin, +1 only when the content changed', () => {
    const sent: Sdp = rewriteEndpoint(parseSdp(PHONE), 0, {
      address: '203.0.113.50',
      rtpPort: 30000,
      rtcpPort: 30001,
    });
    // The other side re-INVITEs with its own new version but the same media: same version on our leg.
    const again = rewriteEndpoint(bumpVersion(parseSdp(PHONE)), 0, {
      address: '203.0.113.50',
      rtpPort: 30000,
      rtcpPort: 30001,
    });
    expect(continueOrigin(sent, again).origin).toEqual(sent.origin);
    const hold = continueOrigin(sent, setDirection(again, 'sendonly'));
    expect(hold.origin).toEqual({ ...sent.origin, sessionVersion: '2890844527' });
    expect(continueOrigin(undefined, again)).toBe(again);
  });
});
