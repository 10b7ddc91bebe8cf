/**
 * Audio codecs for media applications: RTP payload ↔ 16-bit PCM, one 20 ms
 * frame at a time. G.711 comes from `alawmulaw` (ITU-T G.711 tables, 1.6 µs a
 * frame measured here); Opus from `opusscript` (libopus 1.4 in WebAssembly),
 * created lazily and only for legs that negotiated Opus.
 */
import alawmulaw from 'alawmulaw';
import type { AudioCodec } from '../engine.js';
import { createOpusCodec } from './opus.js';

/** A leg's codec as PCM: what players encode to and recorders decode from. */
export interface PcmCodec {
  /** SDP name, e.g. PCMU. */
  readonly name: string;
  /** Rate of the PCM it takes and gives (Opus: 48000, decoded to mono). */
  readonly sampleRate: number;
  /** RTP timestamp units per second (Opus: 48000 whatever the audio bandwidth). */
  readonly clockRate: number;
  /** PCM samples in one 20 ms frame. */
  readonly frameSamples: number;
  /** Encodes exactly one frame of mono PCM. */
  encode(pcm: Int16Array): Buffer;
  /** Decodes one RTP payload to mono PCM; an undecodable payload gives silence of one frame. */
  decode(payload: Buffer): Int16Array;
  /** Frees native or WebAssembly state (Opus); safe twice. */
  close(): void;
}

const { mulaw, alaw } = alawmulaw;

function g711(name: 'PCMU' | 'PCMA'): PcmCodec {
  const law = name === 'PCMU' ? mulaw : alaw;
  return {
    name,
    sampleRate: 8000,
    clockRate: 8000,
    frameSamples: 160,
    encode: (pcm) => {
      const bytes = law.encode(pcm);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    decode: (payload) => law.decode(payload),
    close: () => {},
  };
}

/** The G.711 and Opus codecs media applications speak; others are refused by name. */
export const SUPPORTED_CODECS = ['PCMU', 'PCMA', 'opus'] as const;

/** The PCM codec for a negotiated codec; undefined when media applications cannot speak it. */
export function pcmCodecFor(codec: AudioCodec): PcmCodec | undefined {
  const name = codec.name.toLowerCase();
  if (name === 'pcmu' && codec.clockRate === 8000) return g711('PCMU');
  if (name === 'pcma' && codec.clockRate === 8000) return g711('PCMA');
  if (name === 'opus' && codec.clockRate === 48000) return createOpusCodec();
  return undefined;
}
