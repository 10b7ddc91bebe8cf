/**
 * sipp as the far end of a trunk (a carrier, or a SIP URI's peer) for the
 * Chromium tests: one of the testkit's bundled scenarios, on `address`
 * (127.0.0.3 in these tests, apart from the visitors' 127.0.0.1) and a
 * reserved port, with its messages traced so a test can read what it got.
 */
import {
  bundledScenario,
  startSipp,
  type BundledScenarioName,
  type SippInstance,
} from '@parley/testkit';

export async function carrierSipp(
  scenario: BundledScenarioName,
  address: string,
  port: number,
): Promise<SippInstance> {
  return startSipp({
    scenario: await bundledScenario(scenario),
    address,
    localPort: port,
    traceMessages: true,
  });
}
