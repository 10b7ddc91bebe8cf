/**
 * RFC 4475 (SIP Torture Test Messages) §3: every message as the RFC's archive has it,
 * and the outcome the RFC documents. See README.md for the table and the choices.
 *
 * - valid:    parseMessage and validateMessage accept it; the tricky fields read right;
 *             serialize → parse gives the same message.
 * - refused:  parseMessage throws SipParseError with the status to answer.
 * - rejected: parseMessage accepts it (it frames and the start line is fine; headers are
 *             parsed lazily) and validateMessage, or the accessor, refuses it with a status.
 */
import { describe, expect, it } from 'vitest';
import { messageFields, rfc4475, rfc4475Names } from './fixtures/fixtures.js';
import { parseAuthHeader, parseDigestCredentials } from './digest.js';
import { getParam } from './params.js';
import { parseMessage } from './parse-message.js';
import { serialize } from './serialize.js';
import { SipParseError, type SipParseStatus } from './sip-parse-error.js';
import type { SipRequest, SipResponse } from './sip-message.js';
import { SipStreamDecoder } from './stream-decoder.js';
import { unquote } from './lexer.js';
import { isRfc3261Branch } from './via.js';
import { isSipUri, type AbsoluteUri, type SipUri } from './uri.js';
import { validateMessage } from './validate.js';

type Message = SipRequest | SipResponse;

type Expectation =
  | { section: string; outcome: 'valid'; check: (m: Message) => void }
  | { section: string; outcome: 'refused'; status: SipParseStatus; reason: RegExp }
  | {
      section: string;
      outcome: 'rejected';
      status: SipParseStatus;
      reason: RegExp;
      check?: (m: Message) => void;
    };

function req(m: Message): SipRequest {
  if (m.type !== 'request') throw new Error('expected a request');
  return m;
}

function sip(uri: unknown): SipUri {
  const u = uri as SipUri;
  if (!isSipUri(u)) throw new Error('expected a SIP URI');
  return u;
}

const SDP_150 = 150;

const CASES: Record<string, Expectation> = {
  // 3.1.1 Valid messages
  wsinv: {
    section: '3.1.1.1',
    outcome: 'valid',
    check(m) {
      const r = req(m);
      expect(r.method).toBe('INVITE');
      expect(sip(r.uri).params).toEqual([['unknownparam', null]]);
      expect(r.to.displayName).toBeUndefined();
      expect(r.to.tag).toBe('1918181833n');
      expect(sip(r.to.uri).user).toBe('vivekg');
      expect(r.from.displayName).toBe('J Rosenberg \\"');
      expect(r.from.tag).toBe('98asjd8');
      expect(r.maxForwards).toBe(68);
      expect(r.cseq).toEqual({ seq: 9, method: 'INVITE' });
      expect(r.callId).toBe('wsinv.ndaksdj@192.0.2.1');
      expect(r.vias.map((v) => [v.transport, v.host, v.branch])).toEqual([
        ['UDP', '192.0.2.2', '390skdjuw'],
        ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
        ['UDP', '192.168.255.111', 'z9hG4bK30239'],
      ]);
      expect(r.headers.get('subject')).toBe('');
      expect(r.headers.get('newfangledheader')).toBe('newfangled value continued newfangled value');
      expect(r.headers.getAll('UnknownHeaderWithUnusualValue')).toEqual([';;,,;;,;']);
      expect(sip(r.routes[0]?.uri).params).toEqual([
        ['lr', null],
        ['unknownwith', 'value'],
        ['unknown-no-value', null],
      ]);
      const contact = r.contact;
      expect(contact?.displayName).toBe('Quoted string ""');
      expect(contact?.params).toEqual([
        ['newparam', 'newvalue'],
        ['secondparam', null],
        ['q', '0.33'],
      ]);
      expect(r.contentType).toBe('application/sdp');
      expect(r.body.length).toBe(SDP_150);
    },
  },
  intmeth: {
    section: '3.1.1.2',
    outcome: 'valid',
    check(m) {
      const r = req(m);
      const method = "!interesting-Method0123456789_*+`.%indeed'~";
      expect(r.method).toBe(method);
      expect(r.cseq).toEqual({ seq: 139122385, method });
      const uri = sip(r.uri);
      expect(uri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
      expect(uri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
      expect(uri.host).toBe('example.com');
      expect(r.via.branch).toBe("z9hG4bK-.!%66*_+`'~");
      expect(r.to.displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
      expect(sip(r.to.uri).user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
      expect(r.from.displayName).toBe("token1~` token2'+_ token3*%!.-");
      expect(r.from.tag).toBe("_token~1'+`*%!-.");
      expect(unquote(getParam(r.from.params, "fromParam''~+*_!.-%") ?? '')).toBe('работающий');
      expect(r.callId).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
      expect(r.maxForwards).toBe(255);
      expect(r.headers.get("extensionHeader-!.%*+_`'~")).toBe('\ufeff大停電');
    },
  },
  esc01: {
    section: '3.1.1.3',
    outcome: 'valid',
    check(m) {
      const r = req(m);
      expect(sip(r.uri).user).toBe('sips:user@example.com');
      expect(sip(r.uri).host).toBe('example.net');
      expect(sip(r.to.uri).user).toBe('user');
      expect(sip(r.from.uri).user).toBe('I have spaces');
      const contact = sip(r.contact?.uri);
      expect(contact.user).toBe('caller');
      // name=v%61lue%25%34%31 is "value%41": unescaped once, never recursively.
      expect(contact.params).toEqual([
        ['lr', null],
        ['name', 'value%41'],
      ]);
      expect(r.callId).toBe('esc01.239409asdfakjkn23onasd0-3234');
    },
  },
  escnull: {
    section: '3.1.1.4',
    outcome: 'valid',
    check(m) {
      expect(sip(m.to.uri).user).toBe('null-\x00-null');
      expect(sip(m.from.uri).user).toBe('null-\x00-null');
      expect(m.contacts.map((c) => sip(c.uri).user)).toEqual(['\x00', '\x00\x00']);
    },
  },
  esc02: {
    section: '3.1.1.5',
    outcome: 'valid',
    check(m) {
      const r = req(m);
      expect(r.method).toBe('RE%47IST%45R');
      expect(r.cseq.method).toBe('RE%47IST%45R');
      expect(r.to.displayName).toBe('%Z%45');
      expect(r.from.displayName).toBe('%Z%45');
      expect(r.contacts.map((c) => sip(c.uri).user)).toEqual(['alias1', 'alias3']);
      expect(r.headers.get('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
      expect(r.via.branch).toBe('z9hG4bK209%fzsnel234');
    },
  },
  lwsdisp: {
    section: '3.1.1.6',
    outcome: 'valid',
    check(m) {
      expect(m.from.displayName).toBe('caller');
      expect(m.from.tag).toBe('323');
    },
  },
  longreq: {
    section: '3.1.1.7',
    outcome: 'valid',
    check(m) {
      expect(m.to.displayName).toBe(`I have a user name of ${'extreme'.repeat(10)} proportion`);
      const to = sip(m.to.uri);
      expect(to.port).toBe(6000);
      expect(getParam(to.params, 'unknownparam1')).toBe(`very${'long'.repeat(20)}value`);
      expect(getParam(to.params, `longparam${'name'.repeat(25)}`)).toBe('shortvalue');
      expect(getParam(to.params, `very${'long'.repeat(25)}ParameterNameWithNoValue`)).toBeNull();
      expect(sip(m.from.uri).user).toBe('amazinglylongcallername'.repeat(5));
      expect(m.from.tag).toBe(`12${'982'.repeat(50)}424`);
      expect(getParam(m.from.params, `unknownheaderparam${'name'.repeat(20)}`)).toBe(
        `unknowheaderparam${'value'.repeat(15)}`,
      );
      expect(getParam(m.from.params, `unknownValueless${'paramname'.repeat(10)}`)).toBeNull();
      expect(m.callId).toBe(`longreq.one${'really'.repeat(20)}longcallid`);
      expect(m.vias).toHaveLength(34);
      m.vias.slice(0, 33).forEach((v, i) => expect(v.host).toBe(`sip${33 - i}.example.com`));
      expect(m.vias[33]?.branch).toBe(`very${'long'.repeat(50)}branchvalue`);
      expect(m.vias[33]?.received).toBe('192.0.2.5');
      expect(sip(m.contact?.uri).user).toBe('amazinglylongcallername'.repeat(5));
      expect(m.headers.has(`Unknown-${'Long'.repeat(20)}-Name`)).toBe(true);
    },
  },
  dblreq: {
    section: '3.1.1.8',
    outcome: 'valid',
    check(m) {
      expect(req(m).method).toBe('REGISTER');
      expect(m.body.length).toBe(0);
      expect(m.warnings).toContain('450 octets after the body ignored');
    },
  },
  semiuri: {
    section: '3.1.1.9',
    outcome: 'valid',
    check(m) {
      const uri = sip(req(m).uri);
      expect(uri.user).toBe('user;par=u@example.net');
      expect(uri.host).toBe('example.com');
      expect(uri.params).toEqual([]);
      expect(m.headers.getAll('accept')).toHaveLength(6);
    },
  },
  transports: {
    section: '3.1.1.10',
    outcome: 'valid',
    check(m) {
      expect(m.vias.map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
      expect(m.callId).toBe('transports.kijh4akdnaqjkwendsasfdj');
    },
  },
  mpart01: {
    section: '3.1.1.11',
    outcome: 'valid',
    check(m) {
      expect(m.body.length).toBe(553);
      expect(m.body.includes(0)).toBe(true);
      expect(m.body.subarray(-22).toString('latin1')).toBe('--7a9cbec02ceef655--\r\n');
      expect(m.warnings).toEqual([]);
      expect(m.contentType).toBe('multipart/mixed;boundary=7a9cbec02ceef655');
      expect(m.via.rport).toBe(true);
    },
  },
  unreason: {
    section: '3.1.1.12',
    outcome: 'valid',
    check(m) {
      if (m.type !== 'response') throw new Error('expected a response');
      expect(m.status).toBe(200);
      expect(m.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
    },
  },
  noreason: {
    section: '3.1.1.13',
    outcome: 'valid',
    check(m) {
      if (m.type !== 'response') throw new Error('expected a response');
      expect(m.status).toBe(100);
      expect(m.reason).toBe('');
    },
  },

  // 3.1.2 Invalid messages
  badinv01: { section: '3.1.2.1', outcome: 'rejected', status: 400, reason: /Via/ },
  clerr: { section: '3.1.2.2', outcome: 'refused', status: 400, reason: /Content-Length 9999/ },
  ncl: { section: '3.1.2.3', outcome: 'refused', status: 400, reason: /Content-Length -999/ },
  scalar02: { section: '3.1.2.4', outcome: 'refused', status: 400, reason: /CSeq/ },
  scalarlg: { section: '3.1.2.5', outcome: 'refused', status: 400, reason: /CSeq/ },
  quotbal: {
    section: '3.1.2.6',
    outcome: 'rejected',
    status: 400,
    reason: /unterminated quoted string/,
  },
  ltgtruri: { section: '3.1.2.7', outcome: 'refused', status: 400, reason: /Request-URI/ },
  lwsruri: { section: '3.1.2.8', outcome: 'refused', status: 400, reason: /Request-Line/ },
  lwsstart: { section: '3.1.2.9', outcome: 'refused', status: 400, reason: /Request-Line/ },
  trws: { section: '3.1.2.10', outcome: 'refused', status: 400, reason: /Request-Line/ },
  escruri: {
    section: '3.1.2.11',
    outcome: 'rejected',
    status: 400,
    reason: /headers in the Request-URI/,
    check(m) {
      expect(sip(req(m).uri).headers).toEqual([['Route', '<sip:example.com>']]);
    },
  },
  baddate: {
    section: '3.1.2.12',
    outcome: 'valid',
    check(m) {
      expect(m.headers.get('date')).toBe('Fri, 01 Jan 2010 16:00:00 EST');
      expect(m.headers.getAll('date')).toHaveLength(1);
    },
  },
  regbadct: { section: '3.1.2.13', outcome: 'rejected', status: 400, reason: /enclosed in <>/ },
  badaspec: { section: '3.1.2.14', outcome: 'rejected', status: 400, reason: /^To:/ },
  // The archive's baddn.dat ends without the empty line; the display names are tested below.
  baddn: { section: '3.1.2.15', outcome: 'refused', status: 400, reason: /no empty line/ },
  badvers: { section: '3.1.2.16', outcome: 'refused', status: 505, reason: /SIP\/7\.0/ },
  mismatch01: {
    section: '3.1.2.17',
    outcome: 'refused',
    status: 400,
    reason: /CSeq method INVITE/,
  },
  mismatch02: {
    section: '3.1.2.18',
    outcome: 'refused',
    status: 400,
    reason: /CSeq method INVITE/,
  },
  bigcode: { section: '3.1.2.19', outcome: 'refused', status: 400, reason: /Status-Code/ },

  // 3.2 Transaction layer
  badbranch: {
    section: '3.2.1',
    outcome: 'valid',
    check(m) {
      expect(m.via.branch).toBe('z9hG4bK');
      expect(isRfc3261Branch(m.via.branch)).toBe(false);
    },
  },

  // 3.3 Application layer
  insuf: { section: '3.3.1', outcome: 'refused', status: 400, reason: /missing/ },
  unkscm: {
    section: '3.3.2',
    outcome: 'rejected',
    status: 416,
    reason: /scheme/,
    check(m) {
      expect((req(m).uri as AbsoluteUri).opaque).toBe('totallyopaquecontent');
    },
  },
  novelsc: {
    section: '3.3.3',
    outcome: 'rejected',
    status: 416,
    reason: /scheme soap\.beep/,
    check(m) {
      expect(req(m).uri.scheme).toBe('soap.beep');
    },
  },
  unksm2: {
    section: '3.3.4',
    outcome: 'valid',
    check(m) {
      expect(m.to.uri).toEqual({ scheme: 'isbn', opaque: '2983792873' });
      expect(m.from.uri).toEqual({ scheme: 'http', opaque: '//www.example.com' });
      expect(m.from.tag).toBe('3234233');
      expect(m.contact?.uri).toEqual({ scheme: 'name', opaque: 'John_Smith' });
    },
  },
  bext01: {
    section: '3.3.5',
    outcome: 'valid',
    check(m) {
      expect(m.headers.getAll('require')).toEqual([
        'nothingSupportsThis',
        'nothingSupportsThisEither',
      ]);
      expect(m.headers.getAll('proxy-require')).toEqual([
        'noProxiesSupportThis',
        'norDoAnyProxiesSupportThis',
      ]);
    },
  },
  invut: {
    section: '3.3.6',
    outcome: 'valid',
    check(m) {
      expect(m.contentType).toBe('application/unknownformat');
      expect(m.body.toString()).toBe('<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n');
    },
  },
  regaut01: {
    section: '3.3.7',
    outcome: 'valid',
    check(m) {
      const auth = parseAuthHeader(m.headers.get('authorization') ?? '');
      expect(auth.scheme).toBe('NoOneKnowsThisScheme');
      expect(auth.params.get('opaque-data')).toBe('here');
      expect(() => parseDigestCredentials(m.headers.get('authorization') ?? '')).toThrow(
        SipParseError,
      );
    },
  },
  multi01: { section: '3.3.8', outcome: 'refused', status: 400, reason: /more than one/ },
  mcl01: {
    section: '3.3.9',
    outcome: 'refused',
    status: 400,
    reason: /more than one Content-Length/,
  },
  bcast: {
    section: '3.3.10',
    outcome: 'valid',
    check(m) {
      expect(m.vias[1]?.host).toBe('255.255.255.255');
    },
  },
  zeromf: {
    section: '3.3.11',
    outcome: 'valid',
    check(m) {
      expect(m.maxForwards).toBe(0);
    },
  },
  cparam01: {
    section: '3.3.12',
    outcome: 'valid',
    check(m) {
      expect(m.contact?.params).toEqual([['unknownparam', null]]);
      expect(sip(m.contact?.uri).params).toEqual([]);
    },
  },
  cparam02: {
    section: '3.3.13',
    outcome: 'valid',
    check(m) {
      expect(m.contact?.params).toEqual([]);
      expect(sip(m.contact?.uri).params).toEqual([['unknownparam', null]]);
    },
  },
  regescrt: {
    section: '3.3.14',
    outcome: 'valid',
    check(m) {
      expect(sip(m.contact?.uri).headers).toEqual([['Route', '<sip:sip.example.com>']]);
    },
  },
  sdp01: {
    section: '3.3.15',
    outcome: 'valid',
    check(m) {
      expect(m.headers.get('accept')).toBe('text/nobodyKnowsThis');
    },
  },

  // 3.4 Backward compatibility
  inv2543: {
    section: '3.4.1',
    outcome: 'valid',
    check(m) {
      expect(m.via.branch).toBeUndefined();
      expect(m.from.tag).toBeUndefined();
      expect(m.headers.has('content-length')).toBe(false);
      expect(m.body.toString()).toMatch(/^v=0\r\n[\s\S]*m=audio 49217 RTP\/AVP 0\r\n$/);
      expect(m.maxForwards).toBeUndefined();
      expect(m.warnings).toEqual([
        'no Content-Length: the body runs to the end of the data',
        'no Max-Forwards',
      ]);
      expect(getParam(sip(m.recordRoutes[0]?.uri).params, 'maddr')).toBe('ss1.example.com');
    },
  },
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('RFC 4475 torture messages', () => {
  it('has one expectation per fixture and a fixture per expectation (49 messages)', () => {
    expect(rfc4475Names()).toEqual(Object.keys(CASES).sort());
    expect(rfc4475Names()).toHaveLength(49);
  });

  for (const [name, expected] of Object.entries(CASES)) {
    it(`§${expected.section} ${name}: ${expected.outcome}`, () => {
      const data = rfc4475(name);
      if (expected.outcome === 'refused') {
        const error = thrown(() => parseMessage(data));
        expect(error).toBeInstanceOf(SipParseError);
        expect((error as SipParseError).statusHint).toBe(expected.status);
        expect((error as SipParseError).reason).toMatch(expected.reason);
        return;
      }
      const message = parseMessage(data);
      if (expected.outcome === 'rejected') {
        expected.check?.(message);
        const error = thrown(() => validateMessage(message));
        expect(error).toBeInstanceOf(SipParseError);
        expect((error as SipParseError).statusHint).toBe(expected.status);
        expect((error as SipParseError).reason).toMatch(expected.reason);
        expect(thrown(() => parseMessage(data, { validate: true }))).toBeInstanceOf(SipParseError);
        return;
      }
      validateMessage(message);
      expected.check(message);
      const again = parseMessage(serialize(message));
      expect(messageFields(again)).toEqual(messageFields(message));
      expect(again.headers.get('content-length')).toBe(String(message.body.length));
    });
  }

  it('§3.1.2.15 baddn: the unquoted display names with a comma are refused once the message is complete', () => {
    const message = parseMessage(Buffer.concat([rfc4475('baddn'), Buffer.from('\r\n')]));
    const error = thrown(() => validateMessage(message));
    expect(error).toBeInstanceOf(SipParseError);
    expect((error as SipParseError).reason).toMatch(/^From:/);
    expect(thrown(() => message.to)).toBeInstanceOf(SipParseError);
  });

  it('§3.3.2 unkscm: a parser accepts the unknown scheme; an element serving it would too', () => {
    const message = parseMessage(rfc4475('unkscm'));
    expect(() =>
      validateMessage(message, { uriSchemes: ['sip', 'nobodyknowsthisscheme'] }),
    ).not.toThrow();
  });

  it('never throws anything but SipParseError, whatever is asked of a fixture', () => {
    for (const name of rfc4475Names()) {
      const data = rfc4475(name);
      const attempts: (() => unknown)[] = [
        () => parseMessage(data),
        () => parseMessage(data, { validate: true }),
        () => parseMessage(data, { datagram: false }),
        () => parseMessage(data, { maxBytes: 300 }),
      ];
      for (const attempt of attempts) {
        const error = thrown(attempt);
        if (error !== undefined) expect(error, name).toBeInstanceOf(SipParseError);
      }
      const message =
        thrown(() => parseMessage(data)) === undefined ? parseMessage(data) : undefined;
      if (message !== undefined) {
        for (const read of [
          () => message.vias,
          () => message.from,
          () => message.to,
          () => message.contacts,
          () => message.routes,
          () => message.recordRoutes,
          () => message.maxForwards,
          () => (message.type === 'request' ? message.uri : undefined),
        ]) {
          const error = thrown(read);
          if (error !== undefined) expect(error, name).toBeInstanceOf(SipParseError);
        }
      }
    }
  });

  it('frames every fixture on a stream without throwing; the valid ones with Content-Length come out whole', () => {
    const decoder = new SipStreamDecoder();
    for (const name of rfc4475Names()) {
      decoder.reset();
      const data = rfc4475(name);
      const events = [...data].flatMap((_, i) =>
        i % 97 === 0 ? decoder.push(data.subarray(i, i + 97)) : [],
      );
      const expected = CASES[name];
      if (expected?.outcome === 'valid' && name !== 'inv2543' && name !== 'dblreq') {
        expect(
          events.map((e) => e.type),
          name,
        ).toEqual(['message']);
      }
      if (name === 'inv2543') expect(events).toMatchObject([{ type: 'error', fatal: true }]);
      // On a stream the octets after the REGISTER are the next message; that INVITE's
      // SDP is 153 octets for a Content-Length of 150, so its tail is garbage: fatal.
      if (name === 'dblreq') {
        expect(events.map((e) => (e.type === 'message' ? e.message.cseq.method : e.type))).toEqual([
          'REGISTER',
          'pong',
          'INVITE',
          'error',
        ]);
        expect(decoder.failed).toBe(true);
      }
    }
  });
});
