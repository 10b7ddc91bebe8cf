/**
 * Authenticating-server decisions (issue #14): the Gate with the built-in
 * checks on a SQLite file (WAL, as the gateway runs it) holding 100,000
 * inbound calling accounts (each with a verified number and an approved
 * resident), 20,000 residents and 20,000 registered devices. Every decision
 * is stored, as in the gateway.
 *
 * - `caller number`: a trunk caller whose number names the account (the
 *   everyday path; goal p99 ≤ 5 ms);
 * - `token claim`: a web caller whose token names the account;
 * - `refused`: an unknown number (the cheapest refusal);
 * - `account number + PIN`: a caller keying both (one scrypt, by design);
 * - `reverify, DTMF PIN`: the resident's PIN before connecting (one scrypt),
 *   one at a time and 8 at once (scrypt runs on libuv's thread pool).
 *
 *   node --import tsx bench/src/gated.ts [--decisions 20000] [--pins 100]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gatedTenantSchema } from '../../gateway/src/config/index.js';
import { MemoryDevicePresence } from '../../gateway/src/gated/devices/device-presence.js';
import {
  GATED_SCHEMA,
  Gate,
  PinHasher,
  createSqliteGatedStore,
  type AuthorizeContext,
} from '../../gateway/src/gated/index.js';
import { GatedMetrics } from '../../gateway/src/gated/metrics.js';
import { Metrics, createLogger } from '../../gateway/src/observability/index.js';
import { openDatabase } from '../../gateway/src/storage/index.js';
import { summarize } from './latency-stats.js';

const { values } = parseArgs({
  options: {
    decisions: { type: 'string', default: '20000' },
    pins: { type: 'string', default: '100' },
    accounts: { type: 'string', default: '100000' },
  },
});
const DECISIONS = Number(values.decisions);
const PINS = Number(values.pins);
const ACCOUNTS = Number(values.accounts);
const RESIDENTS = Math.max(1, Math.floor(ACCOUNTS / 5));
const T = 'facility';

const dir = mkdtempSync(join(tmpdir(), 'parley-bench-gated-'));
const db = openDatabase(join(dir, 'gated.sqlite'), [GATED_SCHEMA]);
const store = createSqliteGatedStore(db);
const presence = new MemoryDevicePresence();
const pins = new PinHasher();
const now = Date.now();

const started = performance.now();
const residentPin = await pins.hash('2468');
const accountPin = await pins.hash('9753');
db.transaction(() => {
  for (let r = 0; r < RESIDENTS; r += 1) {
    const address = `dev-${r}`;
    // SQLite's stores write before their promise returns: all in this transaction.
    void store.devices.put({
      tenant: T,
      address,
      kind: 'sip',
      name: null,
      sipUser: `gd-${r}`,
      enabled: true,
      callingHours: null,
      blockedUntil: null,
      realm: 'parley.test',
      ha1: { MD5: 'x', 'SHA-256': 'x' },
      credentialStamp: 's',
      createdAt: now,
      updatedAt: now,
    });
    presence.setContacts(T, address, [
      { uri: `sip:gd-${r}@10.0.0.1`, expiresAt: now + 86_400_000, flowId: undefined },
    ]);
    void store.residents.put({
      tenant: T,
      id: `r-${r}`,
      name: `Resident ${r}`,
      number: String(10_000 + r),
      status: 'active',
      devices: [address],
      pinSet: true,
      pinHash: residentPin,
      createdAt: now,
      updatedAt: now,
    });
  }
  for (let i = 0; i < ACCOUNTS; i += 1) {
    const id = `acc-${i}`;
    // SQLite's account and billing stores write before their promise returns: all in this transaction.
    void store.accounts.insert({
      tenant: T,
      id,
      number: String(1_000_000_000 + i),
      name: `Caller ${i}`,
      phones: [{ number: `+1415${String(i).padStart(7, '0')}`, verifiedAt: now }],
      webLogin: `user${i}@example.org`,
      ratePerMinute: 10,
      balance: 0,
      status: 'active',
      pinSet: true,
      pinHash: accountPin,
      createdAt: now,
      updatedAt: now,
    });
    void store.billing.credit({
      tenant: T,
      accountId: id,
      key: `seed-${i}`,
      amount: 10_000,
      note: null,
      actor: 'bench',
      at: now,
    });
    void store.accounts.setApproval({
      tenant: T,
      accountId: id,
      residentId: `r-${i % RESIDENTS}`,
      status: 'approved',
      decidedAt: now,
      decidedBy: 'bench',
    });
  }
})();
const seeded = performance.now() - started;

const gate = new Gate({
  tenants: { [T]: gatedTenantSchema.parse({}) },
  store,
  presence,
  pins,
  metrics: new GatedMetrics(new Metrics().registry),
  logger: createLogger('silent'),
  realm: 'parley.test',
});

let call = 0;
const pick = () => Math.floor(Math.random() * ACCOUNTS);
const byNumber = (): AuthorizeContext => ({
  callId: `c-${++call}`,
  tenant: T,
  channel: 'phone',
  callerNumber: `+1415${String(pick()).padStart(7, '0')}`,
});
const byToken = (): AuthorizeContext => ({
  callId: `c-${++call}`,
  tenant: T,
  channel: 'browser',
  privateClaims: { account: String(1_000_000_000 + pick()) },
});
const unknown = (): AuthorizeContext => ({
  callId: `c-${++call}`,
  tenant: T,
  channel: 'phone',
  callerNumber: `+1628${String(pick()).padStart(7, '0')}`,
});
// Each keyed-PIN decision on another account, so no lockout or delay gets in the way.
let keyed = 0;
const byPin = (): AuthorizeContext => ({
  callId: `c-${++call}`,
  tenant: T,
  channel: 'phone',
  callerNumber: null,
  account: { number: String(1_000_000_000 + (keyed++ % ACCOUNTS)), pin: '9753' },
});

interface Row {
  readonly run: string;
  readonly decisions: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** CPU time of this process per decision (user + system), in ms: the cost without the waits. */
  readonly cpu: number;
  /**
   * p99 of each decision's own CPU time (sequential runs only): what a decision
   * costs when the machine does not take the core away (waits for a core are
   * in the wall-clock p99).
   */
  readonly cpuP99: number | undefined;
  readonly allowed: number;
}

async function measure(
  run: string,
  n: number,
  make: () => Promise<boolean>,
  parallel = 1,
): Promise<Row> {
  // Warm-up: prepared statements, JIT, the page cache.
  for (let i = 0; i < Math.min(200, Math.ceil(n / 10)); i += 1) await make();
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let allowed = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        next += 1;
        const s = performance.now();
        const c = parallel === 1 ? process.cpuUsage() : undefined;
        if (await make()) allowed += 1;
        times.push(performance.now() - s);
        if (c) {
          const used = process.cpuUsage(c);
          cpuTimes.push((used.user + used.system) / 1000);
        }
      }
    }),
  );
  const total = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const s = summarize(times);
  return {
    run,
    decisions: n,
    perSecond: Math.round((n / total) * 1000),
    p50: s.p50Ms,
    p99: s.p99Ms,
    max: s.maxMs,
    cpu: (cpu.user + cpu.system) / 1000 / n,
    cpuP99: cpuTimes.length > 0 ? summarize(cpuTimes).p99Ms : undefined,
    allowed,
  };
}

const rows: Row[] = [];
rows.push(
  await measure(
    'authorize, caller number',
    DECISIONS,
    async () => (await gate.authorize(byNumber())).allowed,
  ),
);
rows.push(
  await measure(
    'authorize, token claim',
    DECISIONS,
    async () => (await gate.authorize(byToken())).allowed,
  ),
);
rows.push(
  await measure(
    'authorize refused, unknown number',
    DECISIONS,
    async () => (await gate.authorize(unknown())).allowed,
  ),
);
rows.push(
  await measure(
    'authorize, account number + PIN (scrypt)',
    PINS,
    async () => (await gate.authorize(byPin())).allowed,
  ),
);
const reverify = async () => {
  const d = await gate.authorize(byNumber());
  const r = await gate.reverify(d.callId!, { device: d.devices[0]?.address ?? '', pin: '2468' });
  gate.forget(d.callId!);
  return r.allowed;
};
rows.push(await measure('authorize + reverify, DTMF PIN (scrypt)', PINS, reverify));
rows.push(await measure('authorize + reverify, DTMF PIN, 8 at once', PINS, reverify, 8));

const fmt = (ms: number) => ms.toFixed(2);
process.stdout.write(
  `${ACCOUNTS} accounts, ${RESIDENTS} residents and devices; seeded in ${(seeded / 1000).toFixed(1)} s; ` +
    `scrypt ln=${pins.params.logN} r=${pins.params.r} p=${pins.params.p}; ` +
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n\n` +
    '| run | decisions | decisions/s | p50 ms | p99 ms | max ms | CPU ms each | CPU p99 ms | allowed |\n|---|---|---|---|---|---|---|---|---|\n' +
    rows
      .map(
        (r) =>
          `| ${r.run} | ${r.decisions} | ${r.perSecond} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${fmt(r.cpu)} | ${r.cpuP99 === undefined ? '—' : fmt(r.cpuP99)} | ${r.allowed} |`,
      )
      .join('\n') +
    '\n',
);
gate.close();
db.close();
rmSync(dir, { recursive: true, force: true });
