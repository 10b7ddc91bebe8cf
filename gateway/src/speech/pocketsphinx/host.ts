/**
 * The pocketsphinx host: a child process (`fork`) that runs decoders for many
 * streams. Decoding is synchronous C (~1.5 ms of CPU per 20 ms frame,
 * measured), so it runs here rather than on the gateway's event loop, which
 * paces RTP; and a crash or a kill of this process ends its streams with an
 * error, never the gateway. One language model is loaded per process and
 * shared by its decoders (read-only while searching; this process is
 * single-threaded). The process exits when the gateway goes (IPC disconnect).
 */
import { loadPocketsphinx, type PocketsphinxLib, type Pointer } from './bindings.js';
import { StreamDecoder, type DecoderSink } from './decoder.js';
import type { HostConfig, HostReply, HostRequest } from './host-protocol.js';

const LM_NAME = 'lm';

let lib: PocketsphinxLib | undefined;
let config: HostConfig | undefined;
let languageModel: Pointer | undefined;
const idle: Pointer[] = [];
const streams = new Map<number, StreamDecoder>();

function send(reply: HostReply): void {
  if (process.connected) process.send?.(reply);
}

function sinkFor(id: number): DecoderSink {
  return {
    partial: (result) => send({ t: 'partial', id, result }),
    final: (result) => send({ t: 'final', id, result }),
  };
}

function createDecoder(): Pointer {
  if (!lib || !config) throw new Error('host not initialised');
  const argv = [
    '-logfn',
    '/dev/null',
    '-hmm',
    config.hmm,
    '-dict',
    config.dict,
    '-samprate',
    String(config.sampleRate),
    '-vad_postspeech',
    String(Math.max(1, Math.round(config.endSilenceMs / 10))),
    '-fwdflat',
    config.secondPass ? 'yes' : 'no',
  ];
  const parsed = lib.parseConfig(argv);
  if (!parsed) throw new Error(`pocketsphinx refused its options: ${argv.join(' ')}`);
  const decoder = lib.init(parsed);
  if (!decoder)
    throw new Error(`pocketsphinx could not load the model ${config.hmm} / ${config.dict}`);
  languageModel ??= lib.readLanguageModel(parsed, config.lm, decoder) ?? undefined;
  if (!languageModel)
    throw new Error(`pocketsphinx could not read the language model ${config.lm}`);
  if (
    lib.setLanguageModel(decoder, LM_NAME, languageModel) < 0 ||
    lib.setSearch(decoder, LM_NAME) < 0
  ) {
    throw new Error('pocketsphinx refused the language model');
  }
  return decoder;
}

function release(id: number): void {
  const stream = streams.get(id);
  if (!stream) return;
  streams.delete(id);
  if (lib && config && idle.length < config.idleDecoders) idle.push(stream.decoder);
  else lib?.free(stream.decoder);
}

function fail(id: number, error: unknown): void {
  const stream = streams.get(id);
  streams.delete(id);
  // A decoder that failed is not reused.
  if (stream) lib?.free(stream.decoder);
  send({ t: 'error', id, message: error instanceof Error ? error.message : String(error) });
}

function handle(request: HostRequest): void {
  switch (request.t) {
    case 'init': {
      config = request.config;
      try {
        lib = loadPocketsphinx();
        idle.push(createDecoder());
      } catch (error) {
        // Not initialised: streams that arrive meanwhile are ignored until the exit.
        lib = undefined;
        const message = error instanceof Error ? error.message : String(error);
        // Exit once the message is out (an exit right after send can lose it).
        setTimeout(() => process.exit(1), 1000).unref();
        process.send?.({ t: 'fatal', message } satisfies HostReply, () => process.exit(1));
        return;
      }
      send({ t: 'ready', pid: process.pid });
      return;
    }
    case 'open': {
      // Only when init failed: the host is exiting, and its exit tells the gateway why.
      if (!lib || !config) return;
      try {
        const decoder = idle.pop() ?? createDecoder();
        const stream = new StreamDecoder(lib, decoder, {
          sampleRate: config.sampleRate,
          partialIntervalMs: config.partialIntervalMs,
          maxUtteranceMs: config.maxUtteranceMs,
        });
        streams.set(request.id, stream);
        stream.start();
      } catch (error) {
        fail(request.id, error);
      }
      return;
    }
    case 'audio': {
      const stream = streams.get(request.id);
      if (!stream) return;
      try {
        stream.process(request.pcm, sinkFor(request.id));
      } catch (error) {
        fail(request.id, error);
      }
      return;
    }
    case 'end': {
      const stream = streams.get(request.id);
      if (!stream) return;
      try {
        stream.finish(sinkFor(request.id));
      } catch (error) {
        return fail(request.id, error);
      }
      release(request.id);
      send({ t: 'ended', id: request.id });
      return;
    }
    case 'close': {
      const stream = streams.get(request.id);
      if (!stream) return;
      try {
        stream.abort();
      } catch (error) {
        return fail(request.id, error);
      }
      release(request.id);
      return;
    }
    case 'shutdown':
      process.exit(0);
  }
}

process.on('message', (message) => handle(message as HostRequest));
// The gateway went away (closed us, or died): nothing to serve.
process.on('disconnect', () => process.exit(0));
