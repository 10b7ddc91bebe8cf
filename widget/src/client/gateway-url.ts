/**
 * The SIP WebSocket URL from what the page or the token endpoint gives:
 * a ws(s) URL is used as it is; an http(s) URL is the gateway's base URL and
 * becomes ws(s) with `/sip` appended to its path (`http://h:p` → `ws://h:p/sip`).
 * Relative URLs resolve against `base` (the page). Undefined when unusable.
 */
export function sipWebSocketUrl(url: string, base: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch {
    return undefined;
  }
  switch (parsed.protocol) {
    case 'ws:':
    case 'wss:':
      return parsed.href;
    case 'http:':
    case 'https:':
      parsed.protocol = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
      parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/sip`;
      parsed.search = '';
      parsed.hash = '';
      return parsed.href;
    default:
      return undefined;
  }
}
