/**
 * Opus for media applications, through `opusscript` (libopus 1.4 compiled to
 * WebAssembly; a maintained package instead of a codec of our own). Mono at
 * 48 kHz: a stereo stream from a browser is decoded down to one channel.
 *
 * Measured on this machine (docs/benchmarks.md, "Media applications"): a
 * 20 ms frame costs about 84 µs to decode and 350 µs to encode at the default
 * complexity (9); complexity 3 is used here. G.711 costs under 2 µs either way,
 * which is why a browser leg that needs prompts before an agent answers is
 * answered with PCMU.
 */
import { createRequire } from 'node:module';
import type { PcmCodec } from './codec.js';

/** The part of opusscript's class used here (its typings are an `export =` module). */
interface OpusScript {
  encode(buffer: Buffer, frameSize: number): Buffer;
  decode(buffer: Buffer): Buffer;
  encoderCTL(ctl: number, arg: number): void;
  delete(): void;
}
interface OpusScriptConstructor {
  new (rate: number, channels: number, application: number): OpusScript;
  readonly Application: { readonly VOIP: number };
}
let loaded: OpusScriptConstructor | undefined;
/**
 * opusscript, loaded with the first Opus codec (a CommonJS module: with
 * require, the project has no esModuleInterop): a gateway whose legs never
 * carry Opus through a media application does not hold libopus's WebAssembly.
 */
function opusScript(): OpusScriptConstructor {
  loaded ??= createRequire(import.meta.url)('opusscript') as OpusScriptConstructor;
  return loaded;
}

const RATE = 48000;
const FRAME = 960;
/** OPUS_SET_COMPLEXITY_REQUEST (opus_defines.h). */
const SET_COMPLEXITY = 4010;
const COMPLEXITY = 3;

export function createOpusCodec(): PcmCodec {
  const OpusScript = opusScript();
  let encoder: OpusScript | undefined;
  let decoder: OpusScript | undefined;
  return {
    name: 'opus',
    sampleRate: RATE,
    clockRate: RATE,
    frameSamples: FRAME,
    encode(pcm) {
      if (!encoder) {
        encoder = new OpusScript(RATE, 1, OpusScript.Application.VOIP);
        encoder.encoderCTL(SET_COMPLEXITY, COMPLEXITY);
      }
      return encoder.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), FRAME);
    },
    decode(payload) {
      decoder ??= new OpusScript(RATE, 1, OpusScript.Application.VOIP);
      try {
        const out = decoder.decode(payload);
        return new Int16Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
      } catch {
        return new Int16Array(FRAME);
      }
    },
    close() {
      encoder?.delete();
      decoder?.delete();
      encoder = undefined;
      decoder = undefined;
    },
  };
}
