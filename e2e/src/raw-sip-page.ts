/**
 * A test page with a hand-written SIP-over-WebSocket user agent (no sip.js):
 * it tests the gateway's WebRTC leg on its own, with a real Chromium
 * RTCPeerConnection, apart from the widget. The page reports through
 * `window.parley` (state, responses, inbound audio level, data channel).
 */
export const RAW_SIP_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>raw sip</title></head>
<body><script type="module" src="/raw-sip.js"></script></body></html>`;

export const RAW_SIP_SCRIPT = String.raw`
const q = new URLSearchParams(location.search);
const state = { log: [], responses: [], answered: false, ended: false, channelOpen: false, received: [], error: null };
window.parley = state;
const rand = () => Math.random().toString(36).slice(2, 10);
const callId = rand() + rand();
const fromTag = rand();
let toTag = '';
let cseq = 1;
const branch = () => 'z9hG4bK' + rand() + rand();
const host = rand() + '.invalid';

function message(lines, body = '') {
  return lines.join('\r\n') + '\r\nContent-Length: ' + new TextEncoder().encode(body).length + '\r\n\r\n' + body;
}

async function start() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const pc = new RTCPeerConnection({ iceServers: [] });
  state.pc = pc;
  stream.getTracks().forEach((t) => pc.addTrack(t, stream));
  const channel = pc.createDataChannel('parley');
  channel.onopen = () => { state.channelOpen = true; };
  channel.onmessage = (e) => state.received.push(e.data);
  state.channel = channel;
  const audio = new Audio();
  audio.autoplay = true;
  pc.ontrack = (e) => { audio.srcObject = e.streams[0] ?? new MediaStream([e.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    setTimeout(resolve, 1000);
  });
  const ws = new WebSocket(q.get('ws'), 'sip');
  state.ws = ws;
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  const target = 'sip:' + q.get('queue') + '@' + q.get('domain');
  const invite = message([
    'INVITE ' + target + ' SIP/2.0',
    'Via: SIP/2.0/WSS ' + host + ';branch=' + branch(),
    'Max-Forwards: 70',
    'To: <' + target + '>',
    'From: <sip:visitor@' + host + '>;tag=' + fromTag,
    'Call-ID: ' + callId,
    'CSeq: 1 INVITE',
    'Contact: <sip:visitor@' + host + ';transport=ws>',
    'Authorization: Bearer ' + q.get('token'),
    'Content-Type: application/sdp',
  ], pc.localDescription.sdp);
  state.sentAt = performance.now();
  ws.send(invite);
  ws.onmessage = async (e) => {
    const text = String(e.data);
    const first = text.split('\r\n')[0];
    if (first.startsWith('SIP/2.0')) {
      const status = Number(first.split(' ')[1]);
      const reason = (/^Reason: (.*)$/mi.exec(text) || [])[1];
      state.responses.push({ status, reason, at: performance.now() - state.sentAt });
      if (status >= 200 && /CSeq: 1 INVITE/i.test(text)) {
        toTag = (/^To: .*;tag=([^;\r\n]+)/mi.exec(text) || [])[1] || '';
        ws.send(message([
          'ACK ' + target + ' SIP/2.0',
          'Via: SIP/2.0/WSS ' + host + ';branch=' + branch(),
          'Max-Forwards: 70',
          'To: <' + target + '>;tag=' + toTag,
          'From: <sip:visitor@' + host + '>;tag=' + fromTag,
          'Call-ID: ' + callId,
          'CSeq: 1 ACK',
        ]));
        if (status === 200) {
          const sdp = text.slice(text.indexOf('\r\n\r\n') + 4);
          await pc.setRemoteDescription({ type: 'answer', sdp });
          state.answered = true;
        } else {
          state.ended = true;
        }
      }
      return;
    }
    // A request from the gateway: BYE (or INFO): answer 200.
    const via = (/^Via: (.*)$/mi.exec(text) || [])[1];
    const lines = ['SIP/2.0 200 OK', 'Via: ' + via,
      (/^(From: .*)$/mi.exec(text) || [])[1], (/^(To: .*)$/mi.exec(text) || [])[1],
      (/^(Call-ID: .*)$/mi.exec(text) || [])[1], (/^(CSeq: .*)$/mi.exec(text) || [])[1]];
    ws.send(message(lines));
    if (first.startsWith('BYE')) { state.ended = true; state.byeReason = (/^Reason: (.*)$/mi.exec(text) || [])[1]; }
  };
}

window.hangup = () => {
  cseq += 1;
  const target = 'sip:' + q.get('queue') + '@' + q.get('domain');
  state.ws.send(message([
    'BYE ' + target + ' SIP/2.0',
    'Via: SIP/2.0/WSS ' + host + ';branch=' + branch(),
    'Max-Forwards: 70',
    'To: <' + target + '>;tag=' + toTag,
    'From: <sip:visitor@' + host + '>;tag=' + fromTag,
    'Call-ID: ' + callId,
    'CSeq: ' + cseq + ' BYE',
  ]));
};

window.sendInfo = (digit) => {
  cseq += 1;
  const target = 'sip:' + q.get('queue') + '@' + q.get('domain');
  state.ws.send(message([
    'INFO ' + target + ' SIP/2.0',
    'Via: SIP/2.0/WSS ' + host + ';branch=' + branch(),
    'Max-Forwards: 70',
    'To: <' + target + '>;tag=' + toTag,
    'From: <sip:visitor@' + host + '>;tag=' + fromTag,
    'Call-ID: ' + callId,
    'CSeq: ' + cseq + ' INFO',
    'Content-Type: application/dtmf-relay',
  ], 'Signal=' + digit + '\r\nDuration=200\r\n'));
};

window.inboundAudio = async () => {
  const stats = await state.pc.getStats();
  let out = null;
  stats.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') out = { packets: r.packetsReceived, energy: r.totalAudioEnergy, codec: r.codecId }; });
  stats.forEach((r) => { if (out && r.id === out.codec) out.mime = r.mimeType; });
  return out;
};

start().catch((e) => { state.error = String(e && e.message || e); });
`;
