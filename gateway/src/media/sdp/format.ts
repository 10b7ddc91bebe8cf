import { ParleyError } from '@parley/shared/errors';
import type { Sdp, SdpConnection, SdpLine } from './types.js';

/** Renders SDP with CRLF line ends (and a final CRLF). */
export function formatSdp(sdp: Sdp): string {
  const o = sdp.origin;
  const out = [
    'v=0',
    `o=${o.username} ${o.sessionId} ${o.sessionVersion} IN ${o.addressType} ${o.address}`,
    `s=${sdp.sessionName}`,
  ];
  for (const line of sdp.session) out.push(formatLine(line));
  for (const m of sdp.media) {
    const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
    out.push(`m=${m.media} ${port} ${m.proto} ${m.formats.join(' ')}`);
    for (const line of m.lines) out.push(formatLine(line));
  }
  for (const line of out) {
    // Values are ours or came from parseSdp; a line break here would inject SDP lines.
    if (/[\0\r\n]/.test(line)) {
      throw new ParleyError('internal', 'sdp field contains a line break or NUL');
    }
  }
  return `${out.join('\r\n')}\r\n`;
}

function formatConnection(c: SdpConnection): string {
  return `IN ${c.addressType} ${c.address}${c.suffix ?? ''}`;
}

function formatLine(line: SdpLine): string {
  switch (line.kind) {
    case 'connection':
      return `c=${formatConnection(line.connection)}`;
    case 'rtpmap':
      return `a=rtpmap:${line.pt} ${line.name}/${line.clockRate}${
        line.channels === undefined ? '' : `/${line.channels}`
      }`;
    case 'fmtp':
      return line.parameters === ''
        ? `a=fmtp:${line.format}`
        : `a=fmtp:${line.format} ${line.parameters}`;
    case 'ptime':
      return `a=ptime:${line.ms}`;
    case 'direction':
      return `a=${line.direction}`;
    case 'rtcp':
      return line.connection === undefined
        ? `a=rtcp:${line.port}`
        : `a=rtcp:${line.port} ${formatConnection(line.connection)}`;
    case 'attribute':
      return line.value === undefined ? `a=${line.name}` : `a=${line.name}:${line.value}`;
    case 'other':
      return `${line.type}=${line.value}`;
  }
}
