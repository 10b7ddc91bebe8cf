/**
 * Moves a Chromium page's host to another network mid-call, for real, inside
 * the tests' private network namespace (`scripts/in-netns.sh`: lo, and a veth
 * pair v0 10.77.0.1/24 <-> v1 10.77.0.2/24). Chromium gathers a UDP host
 * candidate on each of 127.0.0.1 (`--allow-loopback-in-peer-connection`),
 * 10.77.0.1 and 10.77.0.2, and all three pairs with the gateway's 127.0.0.1
 * candidate succeed (it usually selects a veth one). A move, as a phone going
 * from Wi-Fi to cellular:
 *   1. the new address (`10.77.1.2/24`) comes up first;
 *   2. the page's old loopback candidate dies: its port is refused both ways
 *      by `ip rule … prohibit` (127.0.0.1 itself stays, the gateway and the
 *      agent use it; only lo's `local` lookup is moved behind those rules);
 *   3. the old veth addresses are removed.
 * No old pair works afterwards: ICE has to restart to find the new address.
 * Chromium (Debian's 156) learns the new address list (a new gathering finds
 * the new address) but does not restart ICE itself nor drop the old pairs at
 * once: it keeps checking them, even switches to another removed address,
 * until none answers and ICE goes `disconnected`, about 8 s after the move;
 * the widget restarts ICE before that, about a second after its stats show
 * the selected pair's check unanswered and no audio
 * (`widget/src/client/ice-restart.ts`).
 * The namespace has `ip` but no nft, iptables or tc classifiers, hence rules.
 */
import type { Page } from 'playwright-core';
import { runCommand } from '@parley/testkit';

/** The page's new address, on another subnet than the old ones (a new network). */
export const NEW_PAGE_ADDRESS = '10.77.1.2';

export interface LocalCandidate {
  readonly address: string;
  readonly port: number;
}

export interface PageIce {
  /** The local side of the selected (nominated) candidate pair, if any. */
  readonly selected: LocalCandidate | undefined;
  /** Every local UDP host candidate the page gathered. */
  readonly local: readonly LocalCandidate[];
}

/** The page's ICE now, from its last peer connection's `getStats()`. */
export function pageIce(page: Page): Promise<PageIce> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1);
    type Stat = Record<string, unknown> & { id: string; type: string };
    const stats: Stat[] = [];
    if (pc) (await pc.getStats()).forEach((r: Stat) => stats.push(r));
    const byId = new Map(stats.map((s) => [s.id, s]));
    const candidate = (s: Stat | undefined) =>
      s ? { address: String(s.address), port: Number(s.port) } : undefined;
    const transport = stats.find((s) => s.type === 'transport');
    const pair = byId.get(String(transport?.selectedCandidatePairId));
    return {
      selected: candidate(byId.get(String(pair?.localCandidateId))),
      local: stats
        .filter(
          (s) => s.type === 'local-candidate' && s.protocol === 'udp' && s.candidateType === 'host',
        )
        .map((s) => candidate(s)!),
    };
  });
}

export interface NetworkMove {
  /** Puts the namespace back as it was (old addresses, no rules, no new address). */
  restore(): Promise<void>;
}

/** The step of the local-table rule while the prohibit rules sit before it. */
const LOCAL_PREF = 100;
const BLOCK_PREF = 10;

const ip = (...args: string[]) => runCommand('ip', args, { timeoutMs: 5000 });

/**
 * Moves the page's host off every address its candidates `old` use, onto
 * {@link NEW_PAGE_ADDRESS}. Only in the private namespace (it removes addresses).
 */
export async function movePageNetwork(old: readonly LocalCandidate[]): Promise<NetworkMove> {
  if (process.env['PARLEY_NETNS'] !== '1') {
    throw new Error('movePageNetwork changes addresses: run it in scripts/in-netns.sh only');
  }
  const undo: (() => Promise<unknown>)[] = [];
  // Every step is undone even when one fails; the failures are thrown together.
  const restore = async () => {
    const failed: string[] = [];
    for (const step of undo.reverse()) await step().catch((e: Error) => failed.push(e.message));
    undo.length = 0;
    if (failed.length > 0) throw new Error(`restoring the namespace: ${failed.join('; ')}`);
  };
  try {
    const interfaces = JSON.parse((await ip('-j', 'addr', 'show')).stdout) as {
      ifname: string;
      addr_info: { family: string; local: string; prefixlen: number }[];
    }[];
    const owner = (address: string) => {
      for (const i of interfaces)
        for (const a of i.addr_info)
          if (a.local === address) return { dev: i.ifname, cidr: `${address}/${a.prefixlen}` };
      throw new Error(`no interface has the page's address ${address}`);
    };
    const loopbackPorts = old.filter((c) => c.address === '127.0.0.1').map((c) => c.port);
    const moved = [...new Set(old.map((c) => c.address))]
      .filter((a) => a !== '127.0.0.1')
      .map((a) => owner(a));
    const dev = moved[0]?.dev ?? 'v0';

    // 1. The new network comes up.
    await ip('addr', 'add', `${NEW_PAGE_ADDRESS}/24`, 'dev', dev);
    undo.push(() => ip('addr', 'del', `${NEW_PAGE_ADDRESS}/24`, 'dev', dev));

    // 2. The old loopback candidate's port is refused both ways.
    if (loopbackPorts.length > 0) {
      await ip('rule', 'add', 'pref', String(LOCAL_PREF), 'lookup', 'local');
      undo.push(() => ip('rule', 'del', 'pref', String(LOCAL_PREF), 'lookup', 'local'));
      await ip('rule', 'del', 'pref', '0', 'lookup', 'local');
      undo.push(() => ip('rule', 'add', 'pref', '0', 'lookup', 'local'));
      for (const port of loopbackPorts) {
        for (const [side, portKey] of [
          ['from', 'sport'],
          ['to', 'dport'],
        ] as const) {
          const rule = [
            'pref',
            String(BLOCK_PREF),
            side,
            '127.0.0.1',
            'ipproto',
            'udp',
            portKey,
            String(port),
            'prohibit',
          ];
          await ip('rule', 'add', ...rule);
          undo.push(() => ip('rule', 'del', ...rule));
        }
      }
    }

    // 3. The old addresses go.
    for (const { dev: oldDev, cidr } of moved) {
      await ip('addr', 'del', cidr, 'dev', oldDev);
      undo.push(() => ip('addr', 'add', cidr, 'dev', oldDev));
    }
  } catch (error) {
    await restore().catch(() => undefined); // the first error says more
    throw error;
  }
  return { restore };
}
