/**
 * The recogniser WebSocket protocol (documented in docs/speech.md): what the
 * gateway's `websocket` engine speaks to a company's recogniser, and what
 * `RecogniserServer` serves. One WebSocket per transcription stream.
 *
 * Client → server: a text `start` message, then binary messages of raw PCM
 * (signed 16-bit little-endian, mono, at `sampleRate`), then a text `end`.
 * Server → client: text messages `partial`, `final`, `error`, and `ended`
 * once every final of the audio before `end` is out. Times are milliseconds
 * from the first sample of this connection's audio; a client that
 * reconnected adds the `offsetMs` it sent in `start`.
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

const word = z.object({
  word: z.string(),
  startMs: z.number().nonnegative(),
  endMs: z.number().nonnegative(),
  confidence: z.number().min(0).max(1).optional(),
});

export const serverMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('partial'),
    text: z.string(),
    /** Audio heard when the guess was made, ms from this connection's first sample. */
    audioMs: z.number().nonnegative().optional(),
  }),
  z.object({
    type: z.literal('final'),
    text: z.string(),
    startMs: z.number().nonnegative(),
    endMs: z.number().nonnegative(),
    confidence: z.number().min(0).max(1).optional(),
    words: z.array(word).optional(),
  }),
  z.object({ type: z.literal('error'), message: z.string() }),
  z.object({ type: z.literal('ended') }),
]);
export type ServerMessage = z.infer<typeof serverMessage>;

export const clientMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    version: z.literal(PROTOCOL_VERSION),
    sampleRate: z.number().int().positive(),
    encoding: z.literal('pcm_s16le'),
    channels: z.literal(1),
    /** The gateway's stream id (for the server's logs). */
    streamId: z.string().max(200).optional(),
    /** Where this connection's audio starts in the stream (non-zero after a reconnect). */
    offsetMs: z.number().nonnegative().default(0),
  }),
  z.object({ type: z.literal('end') }),
]);
export type ClientMessage = z.input<typeof clientMessage>;

/** A text message as JSON, or undefined when it is not one of the protocol's. */
export function parseMessage<T extends z.ZodType>(schema: T, text: string): z.infer<T> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** A binary message as samples (copied: a Buffer from the socket may start at an odd offset). */
export function pcmFromBinary(data: Buffer): Int16Array {
  const samples = new Int16Array(data.length >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(i * 2);
  return samples;
}

/** Samples as the little-endian bytes of a binary message. */
export function binaryFromPcm(samples: Int16Array): Buffer {
  const bytes = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i] ?? 0, i * 2);
  return bytes;
}
