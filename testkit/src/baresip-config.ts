/** The files of a test softphone's private baresip directory: `config` and `accounts`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { BaresipAgentOptions, SipTransport } from './baresip-types.js';
import { TestkitError } from './testkit-error.js';

/** The baresip module of a codec (`PCMU`, `opus/48000/2`…), if it needs one. */
export function codecModule(codec: string): string | undefined {
  const name = codec.split('/')[0]?.toUpperCase();
  if (name === 'PCMU' || name === 'PCMA') return 'g711.so';
  if (name === 'OPUS') return 'opus.so';
  if (name === 'G722') return 'g722.so';
  if (name === 'L16') return 'l16.so';
  return undefined;
}

/** The clock rate and channels aufile's source WAV must have for the codec (aufile does not resample). */
export function codecFormat(codec: string): { rate: number; channels: number } {
  const [name = '', rate, channels] = codec.split('/');
  if (name.toUpperCase() === 'OPUS') return { rate: 48000, channels: 2 };
  if (name.toUpperCase() === 'G722') return { rate: 16000, channels: 1 };
  return { rate: rate ? Number(rate) : 8000, channels: channels ? Number(channels) : 1 };
}

/**
 * The one format every codec of an agent shares: baresip opens its aufile
 * source at the negotiated codec's rate and refuses a file at another
 * (`aufile: input file (...) must have sample-rate 8000 Hz`, then 486), so
 * an agent listing Opus and G.711 fails every call offered G.711 alone, as
 * the gateway's early answer offers a SIP phone.
 */
export function agentFormat(codecs: readonly string[]): { rate: number; channels: number } {
  const formats = codecs.map((codec) => ({ codec, ...codecFormat(codec) }));
  const first = formats[0];
  if (!first) throw new TestkitError('bad_input', 'codecs must not be empty');
  const other = formats.find((f) => f.rate !== first.rate || f.channels !== first.channels);
  if (other) {
    throw new TestkitError(
      'bad_input',
      `codecs ${first.codec} and ${other.codec} have different formats (${first.rate}/${first.channels}, ${other.rate}/${other.channels}): ` +
        "baresip's aufile does not resample, so the agent would refuse calls on one of them; list codecs of one clock rate",
    );
  }
  return { rate: first.rate, channels: first.channels };
}

export interface BaresipFiles {
  readonly address: string;
  readonly listenPort: number;
  readonly audioSource: string;
  readonly rtpPorts: readonly [number, number];
  readonly maxCalls: number;
  readonly modules: readonly string[];
  readonly controlPort: number;
  readonly recordingDir: string;
  readonly codecs: readonly string[];
  readonly transport: SipTransport;
  readonly options: BaresipAgentOptions;
}

/** Writes `config` and `accounts` into `dir`. */
export function writeBaresipConfig(dir: string, f: BaresipFiles): void {
  const { address, listenPort, audioSource, rtpPorts, maxCalls, modules, options } = f;
  const config = [
    `sip_listen ${address}:${listenPort}`,
    `net_interface ${address}`,
    `audio_source aufile,${audioSource}`,
    'audio_player aubridge,sink',
    'audio_alert aubridge,sink',
    `rtp_ports ${rtpPorts[0]}-${rtpPorts[1]}`,
    `call_max_calls ${maxCalls}`,
    'module_path /usr/lib/baresip/modules',
    ...modules.map((m) => `module ${m}`),
    'module aufile.so',
    'module aubridge.so',
    'module sndfile.so',
    'module_tmp uuid.so',
    'module_tmp account.so',
    'module_app ctrl_tcp.so',
    'module_app menu.so',
    `ctrl_tcp_listen 127.0.0.1:${f.controlPort}`,
    `snd_path ${f.recordingDir}`,
    ...(options.extraConfig ?? []),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config'), config);

  const host = options.registrar ?? `${address}:${listenPort}`;
  const regint = options.registrar ? (options.regintSeconds ?? 60) : 0;
  const extra =
    typeof options.extraAccountParams === 'string'
      ? options.extraAccountParams
      : Object.entries(options.extraAccountParams ?? {})
          .map(([k, v]) => `;${k}=${v}`)
          .join('');
  const account =
    `<sip:${options.user}@${host};transport=${f.transport}>` +
    (options.password !== undefined ? `;auth_pass=${options.password}` : '') +
    `;answermode=${options.answerMode ?? 'auto'};regint=${regint};audio_codecs=${f.codecs.join(',')}${extra}`;
  writeFileSync(join(dir, 'accounts'), `${account}\n`);
}
