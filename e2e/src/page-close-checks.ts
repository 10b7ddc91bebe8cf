/**
 * What the page-close e2e tests do, direct to a gateway or through Kamailio: a
 * call from a new page (answered or left ringing), the agent's request after
 * the page went, timed, and the gateway's newest call record.
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { BaresipAgent } from '@parley/testkit';
import { clickCall, states, type WidgetWorld } from './widget-fixture.js';

/** The agent's request must come this soon after the page went (a fraction of the grace). */
export const PROMPTLY_MS = 10_000;

export interface CallRecord {
  readonly id: string;
  readonly outcome: string;
  readonly endedBy?: string;
  readonly reason?: string;
}

export function pageCloseChecks(
  world: WidgetWorld,
  agent: BaresipAgent,
  /** The widget's `gateway` attribute (a relay to Kamailio); unset: the token's gateway. */
  gatewayUrl?: string,
) {
  return {
    /** The gateway's newest call record. */
    async lastCall(): Promise<CallRecord | undefined> {
      const { body } = await world.gw.api<{ calls: CallRecord[] }>('/v1/calls?limit=1');
      return body.calls[0];
    },

    /** A page whose visitor called; resolves when the agent's phone rings (`answer`: and it answered). */
    async callFromPage(answer: boolean): Promise<{ page: Page; mark: number }> {
      const { page } = await world.newPage();
      await page.goto(`${world.siteOrigin}/`);
      if (gatewayUrl)
        await page.evaluate(
          (url) => document.querySelector('parley-call')!.setAttribute('gateway', url),
          gatewayUrl,
        );
      const mark = agent.sipMessages().length;
      await clickCall(page);
      await agent.waitForRequest('INVITE', undefined, 15_000, { since: mark });
      await expect.poll(() => states(page), { timeout: 10_000 }).toContain('ringing');
      if (answer) {
        await agent.accept();
        await expect.poll(() => states(page), { timeout: 10_000 }).toContain('in-call');
      }
      return { page, mark };
    },

    /** Waits for `method` at the agent after `since` (at most PROMPTLY_MS); returns how long it took. */
    agentGets,

    /** An answered call's page navigated away: the agent gets the widget's BYE promptly. */
    async navigatingAwayHangsUp(): Promise<void> {
      const { page } = await this.callFromPage(true);
      const after = agent.sipMessages().length;
      await page.goto('about:blank');
      expect(await agentGets('BYE', after)).toBeLessThan(PROMPTLY_MS);
      await expect
        .poll(this.lastCall, { timeout: 5000 })
        .toMatchObject({ outcome: 'answered', endedBy: 'visitor', reason: 'normal_clearing' });
      await page.context().close();
    },

    /** A ringing call's tab closed: the agent gets the widget's CANCEL promptly, the record says cancelled. */
    async closingWhileRingingCancels(): Promise<void> {
      const { page } = await this.callFromPage(false);
      const context = page.context();
      const after = agent.sipMessages().length;
      await page.close({ runBeforeUnload: true });
      expect(await agentGets('CANCEL', after)).toBeLessThan(PROMPTLY_MS);
      // The widget's CANCEL (a page that only dropped its WebSocket ends as `visitor_gone`).
      await expect
        .poll(this.lastCall, { timeout: 5000 })
        .toMatchObject({ outcome: 'cancelled', endedBy: 'visitor', reason: 'cancelled' });
      await context.close();
    },
  };

  async function agentGets(method: string, since: number): Promise<number> {
    const started = Date.now();
    await agent.waitForRequest(method, undefined, PROMPTLY_MS, { since });
    return Date.now() - started;
  }
}
