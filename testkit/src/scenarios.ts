/**
 * The sipp scenarios shipped in `testkit/scenarios/`, and the media they need.
 *
 * | name                   | role | what it does                                                    |
 * |------------------------|------|-----------------------------------------------------------------|
 * | `uac-bearer-pcmu`      | UAC  | INVITE + `Authorization: Bearer [field0]`, PCMU, 1 kHz tone, BYE after -d |
 * | `uac-bearer-await-bye` | UAC  | as uac-bearer-pcmu, but the tone plays once (2 s) and it waits for the peer's BYE |
 * | `uac-bearer-hold-info` | UAC  | as uac-bearer-pcmu plus spoofed identity headers, hold and resume re-INVITEs, an INFO DTMF, BYE |
 * | `uac-cancel`           | UAC  | INVITE + Bearer, waits for 180, CANCEL after -d, expects 487     |
 * | `uas-busy-486`         | UAS  | 100 then 486 Busy Here                                          |
 * | `uas-ring-no-answer`   | UAS  | 100, 180, never answers; 200 to CANCEL, 487                     |
 * | `uas-early-media-183`  | UAS  | 100, 183 with SDP (early media), 200 600 ms later; echoes RTP     |
 * | `uas-answer-pcmu-echo` | UAS  | 100, 180, 200 with PCMU on -mp (use rtpEcho), waits for BYE     |
 * | `uas-answer-dtmf`      | UAS  | 200 with PCMU + telephone-event, then RFC 4733 keys 1 5 9 # (pcaps), waits for BYE |
 * | `registrar`            | UAS  | stand-in registrar: 401 challenge, digest agent1/secret, 200     |
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

import { cachedTone } from './audio.js';

export const SCENARIO_DIR = fileURLToPath(new URL('../scenarios/', import.meta.url));

export type BundledScenarioName =
  | 'uac-bearer-pcmu'
  | 'uac-bearer-await-bye'
  | 'uac-bearer-hold-info'
  | 'uac-cancel'
  | 'uas-busy-486'
  | 'uas-ring-no-answer'
  | 'uas-answer-pcmu-echo'
  | 'uas-answer-dtmf'
  | 'uas-early-media-183'
  | 'registrar';

export interface ScenarioFile {
  readonly file: string;
  /** Files sipp must find in its working directory, name there → source path (runSipp/startSipp copy them). */
  readonly files?: Readonly<Record<string, string>>;
}

/** The name sipp's rtp_stream action in uac-bearer-pcmu.xml plays (relative to sipp's cwd). */
export const TONE_PCMU_NAME = 'tone-1k-pcmu.ul';

/**
 * A shipped scenario, with its media generated when needed: the PCMU tone is
 * 2 s of 1 kHz sine, 8 kHz, headerless u-law (sipp 3.6.1's rtp_stream sends
 * file bytes as they are, so a WAV header would be heard as a click), looped.
 */
export async function bundledScenario(name: BundledScenarioName): Promise<ScenarioFile> {
  const file = join(SCENARIO_DIR, `${name}.xml`);
  if (!name.startsWith('uac-bearer')) return { file };
  const tone = await cachedTone({
    freqHz: 1000,
    seconds: 2,
    rate: 8000,
    encoding: 'u-law',
    volume: 0.5,
    raw: true,
  });
  return { file, files: { [TONE_PCMU_NAME]: tone } };
}
