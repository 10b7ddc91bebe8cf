/**
 * Debian's Chromium driven by playwright-core, set up for WebRTC tests that
 * stay on this machine:
 * - `--use-fake-ui-for-media-stream` grants getUserMedia without a prompt,
 *   `--use-fake-device-for-media-stream` gives a fake microphone (a beep), or
 *   the WAV of `fakeAudioCapture` (`--use-file-for-fake-audio-capture`);
 * - `--allow-loopback-in-peer-connection` lets ICE use 127.0.0.1 (otherwise
 *   Chromium gathers only its eth0 address and the pair leaves loopback);
 * - no background traffic (component updates, sync, QUIC probing).
 * getUserMedia needs a secure context: open pages on http://127.0.0.1, not
 * about:blank.
 */
import { type Browser, type LaunchOptions, chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--allow-loopback-in-peer-connection',
];

export interface ChromiumOptions {
  /** `deny`: the browser refuses microphone access as a person clicking "Block" would. Default `grant`. */
  readonly permissions?: 'grant' | 'deny';
  /** WAV played as the microphone (48 kHz works best; it loops). */
  readonly fakeAudioCapture?: string;
  /** Default true. */
  readonly headless?: boolean;
  readonly extraArgs?: readonly string[];
  /** Default /usr/bin/chromium. */
  readonly executablePath?: string;
  /** Passed through to playwright (timeout, env, …). */
  readonly launch?: Omit<LaunchOptions, 'args' | 'executablePath' | 'headless'>;
}

/** The command-line flags `launchChromium` uses. */
export function chromiumArgs(options: ChromiumOptions = {}): string[] {
  const base =
    options.permissions === 'deny'
      ? [
          ...CHROMIUM_ARGS.filter((a) => a !== '--use-fake-ui-for-media-stream'),
          '--deny-permission-prompts',
        ]
      : CHROMIUM_ARGS;
  return [
    ...base,
    ...(options.fakeAudioCapture
      ? [`--use-file-for-fake-audio-capture=${options.fakeAudioCapture}`]
      : []),
    ...(options.extraArgs ?? []),
  ];
}

/** Launches Chromium; close it with `browser.close()`. */
export function launchChromium(options: ChromiumOptions = {}): Promise<Browser> {
  return chromium.launch({
    ...options.launch,
    executablePath: options.executablePath ?? CHROMIUM_PATH,
    headless: options.headless ?? true,
    args: chromiumArgs(options),
  });
}
