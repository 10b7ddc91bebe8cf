/**
 * The sipp scenarios shipped in `testkit/scenarios/`, and the media they need.
 *
 * | name                   | role | what it does                                                    |
 * |------------------------|------|-----------------------------------------------------------------|
 * | `uac-bearer-pcmu`      | UAC  | INVITE + `Authorization: Bearer [field0]`, PCMU, 1 kHz tone, BYE after -d |
 * | `uac-bearer-impression` | UAC | as uac-bearer-pcmu, plus `X-Parley-Impression: [field1]` (a marketplace listing's web call) |
 * | `uac-bearer-pcmu-routed` | UAC | as uac-bearer-pcmu, ACK and BYE to the Contact through the Record-Route set (behind a proxy) |
 * | `uac-bearer-await-bye` | UAC  | as uac-bearer-pcmu, but the tone plays once (2 s) and it waits for the peer's BYE |
 * | `uac-bearer-hold-info` | UAC  | as uac-bearer-pcmu plus spoofed identity headers, hold and resume re-INVITEs, an INFO DTMF, BYE |
 * | `uac-cancel`           | UAC  | INVITE + Bearer, waits for 180, CANCEL after -d, expects 487     |
 * | `uas-busy-486`         | UAS  | 100 then 486 Busy Here                                          |
 * | `uas-ring-no-answer`   | UAS  | 100, 180, never answers; 200 to CANCEL, 487                     |
 * | `uas-early-media-183`  | UAS  | 100, 183 with SDP (early media), 200 600 ms later; echoes RTP     |
 * | `uas-answer-pcmu-echo` | UAS  | 100, 180, 200 with PCMU on -mp (use rtpEcho), waits for BYE     |
 * | `uas-answer-ack-optional` | UAS | the same, but takes a BYE that comes without the ACK (its caller killed before it ACKed) |
 * | `uas-answer-dtmf`      | UAS  | 200 with PCMU + telephone-event, then RFC 4733 keys 1 5 9 # (pcaps), waits for BYE |
 * | `registrar`            | UAS  | stand-in registrar: 401 challenge, digest agent1/secret, 200     |
 * | `uac-invite-flood`     | UAC  | one INVITE + Bearer `[token]` (-key token) per call, never ACKs (run with -nd) |
 * | `uac-options-totag-flood` | UAC | one OPTIONS with a made-up To tag per call (run with -nd)     |
 *
 * Carriers (both sides of a trunk; peers bind another loopback address, e.g. 127.0.0.2):
 *
 * | name                      | role | what it does                                                 |
 * |---------------------------|------|--------------------------------------------------------------|
 * | `uas-options`             | UAS  | 200 to every OPTIONS (a peer's keep-alive side)              |
 * | `uas-carrier-answer`      | UAS  | 200 to OPTIONS; INVITE → 100, 180, 200 PCMU, waits for BYE   |
 * | `uas-carrier-503`         | UAS  | INVITE → 503 (a peer out of service: failover)               |
 * | `uas-carrier-auth`        | UAS  | INVITE → 401 digest challenge (MD5, qop=auth), checks the retried INVITE with verifyauth trunkuser/trunkpass, 183 SDP, 200 SDP, waits for BYE |
 * | `uas-carrier-proxy-auth`  | UAS  | the same with a 407 (Proxy-Authenticate)                      |
 * | `uas-carrier-auth-ring`   | UAS  | as uas-carrier-auth, then 180 and waits for the CANCEL: 200, 487 |
 * | `uac-carrier-invite`      | UAC  | INVITE to DID [field0] from [field1] (+ header [field2], payload types [field3]), expects a final 403/404/480/488/503 |
 * | `uac-carrier-call`        | UAC  | INVITE to DID [field0] from [field1] with PCMU, 200, ACK, the 1 kHz tone, BYE after -d |
 * | `uac-carrier-await-bye`   | UAC  | as uac-carrier-call without media, then waits for the gateway's BYE and answers it |
 * | `uac-carrier-ring-cancel` | UAC  | as uac-carrier-invite, expects 180, CANCELs after -d, 487    |
 * | `uas-carrier-press-1`     | UAS  | a callback's customer: 100, 180, 200 PCMU + telephone-event, 2 s later the RFC 4733 key 1 (pcap), waits for BYE (use rtpEcho) |
 * | `uas-carrier-press-2`     | UAS  | the same, pressing 2                                         |
 * | `uas-carrier-info-1`      | UAS  | the same, pressing 1 by an in-dialog INFO (application/dtmf-relay, Signal=1) -d ms after the ACK |
 * | `uas-carrier-early-tone`  | UAS  | 100, 183 PCMU SDP and from then the 1 kHz tone (early media), 200 2 s later, waits for BYE |
 * | `uas-carrier-early-tone-no-answer` | UAS | the same 183 and tone, never answers: waits for the CANCEL, 200, 487 |
 * | `uas-carrier-early-tone-busy` | UAS | the same 183 and tone, then 486 Busy Here 5 s later, takes the ACK |
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

import { cachedTone } from './audio.js';

export const SCENARIO_DIR = fileURLToPath(new URL('../scenarios/', import.meta.url));

export type BundledScenarioName =
  | 'uac-bearer-pcmu'
  | 'uac-bearer-impression'
  | 'uac-bearer-pcmu-routed'
  | 'uac-bearer-await-bye'
  | 'uac-bearer-hold-info'
  | 'uac-cancel'
  | 'uas-busy-486'
  | 'uas-ring-no-answer'
  | 'uas-answer-pcmu-echo'
  | 'uas-answer-ack-optional'
  | 'uas-answer-dtmf'
  | 'uas-early-media-183'
  | 'registrar'
  | 'uas-options'
  | 'uas-carrier-answer'
  | 'uas-carrier-503'
  | 'uas-carrier-auth'
  | 'uas-carrier-proxy-auth'
  | 'uas-carrier-auth-ring'
  | 'uac-carrier-invite'
  | 'uac-carrier-flow'
  | 'uac-carrier-call'
  | 'uac-carrier-await-bye'
  | 'uac-carrier-ring-cancel'
  | 'uas-carrier-press-1'
  | 'uas-carrier-press-2'
  | 'uas-carrier-info-1'
  | 'uas-carrier-early-tone'
  | 'uas-carrier-early-tone-no-answer'
  | 'uas-carrier-early-tone-busy'
  | 'uas-carrier-early-tone-pcma-busy'
  | 'uas-carrier-early-pcma-busy-now'
  | 'uac-invite-flood'
  | 'uac-options-totag-flood';

export interface ScenarioFile {
  readonly file: string;
  /** Files sipp must find in its working directory, name there → source path (runSipp/startSipp copy them). */
  readonly files?: Readonly<Record<string, string>>;
}

/** The name sipp's rtp_stream action in uac-bearer-pcmu.xml plays (relative to sipp's cwd). */
export const TONE_PCMU_NAME = 'tone-1k-pcmu.ul';
/** The same tone in A-law, for the scenarios whose name says `pcma`. */
export const TONE_PCMA_NAME = 'tone-1k-pcma.al';

/**
 * A shipped scenario, with its media generated when needed: the PCMU tone is
 * 2 s of 1 kHz sine, 8 kHz, headerless u-law (sipp 3.6.1's rtp_stream sends
 * file bytes as they are, so a WAV header would be heard as a click), looped.
 */
export async function bundledScenario(name: BundledScenarioName): Promise<ScenarioFile> {
  const file = join(SCENARIO_DIR, `${name}.xml`);
  const streamsTone =
    name.startsWith('uac-bearer') ||
    name === 'uac-carrier-call' ||
    name.startsWith('uas-carrier-early-tone');
  if (!streamsTone) return { file };
  if (name.includes('-pcma')) {
    const alaw = await cachedTone({
      freqHz: 1000,
      seconds: 2,
      rate: 8000,
      encoding: 'a-law',
      volume: 0.5,
      raw: true,
    });
    return { file, files: { [TONE_PCMA_NAME]: alaw } };
  }
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
