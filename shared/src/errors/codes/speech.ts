/**
 * Codes of speech: text to speech and transcription (`gateway/src/speech`).
 * Joined into ERROR_CODES by `../codes.ts`.
 */
import type { DomainCodes } from './info.js';

export const SPEECH_CODES = {
  speech_text_invalid: {
    domain: 'speech',
    http: 400,
    sip: 500,
    message: 'The text to speak is empty or longer than the configured limit.',
    human: 'Something went wrong. Please try again.',
  },
  speech_voice_unknown: {
    domain: 'speech',
    http: 400,
    sip: 500,
    message: 'The voice is not one of the configured text-to-speech voices.',
    human: 'Something went wrong. Please try again.',
  },
  speech_synthesis_failed: {
    domain: 'speech',
    http: 500,
    sip: 500,
    message: 'Text to speech failed (the synthesiser exited with an error or timed out).',
    human: 'Something went wrong. Please try again.',
  },
  transcriber_busy: {
    domain: 'speech',
    http: 503,
    sip: 503,
    message: 'The recogniser already runs the configured maximum of transcription streams.',
    human: 'Transcription is not available right now.',
  },
  transcriber_unavailable: {
    domain: 'speech',
    http: 503,
    sip: 503,
    message: 'The recogniser could not be started or reached.',
    human: 'Transcription is not available right now.',
  },
  transcriber_failed: {
    domain: 'speech',
    http: 502,
    sip: 500,
    message: 'The recogniser failed during a transcription stream; the stream ended.',
    human: 'Transcription stopped; the recording goes on.',
  },
} as const satisfies DomainCodes<'speech'>;
