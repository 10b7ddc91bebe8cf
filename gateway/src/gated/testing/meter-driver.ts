/**
 * The call path's side of the meter in a process of its own, for the crash
 * test (`meter.crash.test.ts`), which SIGKILLs it at random moments:
 *
 *   node --import tsx meter-driver.ts <sqlite file> <run> <minuteMs>
 *
 * At start it recovers the meters the last kill left running, then retries
 * (as a confused call path would) the last minute of each: those must be
 * no-ops. Then it places calls, three at a time, each lasting a few billed
 * minutes (shortened to `minuteMs`), on accounts whose balances run out now
 * and then. It prints one line per fact, only after the fact is committed:
 *
 *   charged <callId> <minute>     the minute is in the database
 *   end <callId> <reason>         the meter closed
 *   recovered <callId> <minutes>  found running after the last stop
 */
import { createLogger } from '../../observability/index.js';
import { openDatabase } from '../../storage/index.js';
import { Meter } from '../meter.js';
import { GATED_SCHEMA, createSqliteGatedStore } from '../store/index.js';

const [path, runArg, minuteArg] = process.argv.slice(2);
if (!path || !runArg || !minuteArg) throw new Error('usage: meter-driver <db> <run> <minuteMs>');
const run = Number(runArg);
const minuteMs = Number(minuteArg);
const out = (line: string) => process.stdout.write(`${line}\n`);

const db = openDatabase(path, [GATED_SCHEMA]);
const store = createSqliteGatedStore(db);
const meter = new Meter({ billing: store.billing, logger: createLogger('silent'), minuteMs });
meter.setMaxListeners(0); // one `end` listener per call in progress

for (const m of await meter.recover()) {
  out(`recovered ${m.callId} ${m.minutesCharged}`);
  // A retry of the last minute, and of the next one, after the crash: neither may charge.
  await store.billing.chargeMinute({
    tenant: m.tenant,
    accountId: m.accountId,
    callId: m.callId,
    minute: m.minutesCharged,
    amount: m.ratePerMinute,
    at: Date.now(),
  });
  await store.billing.chargeMinute({
    tenant: m.tenant,
    accountId: m.accountId,
    callId: m.callId,
    minute: m.minutesCharged + 1,
    amount: m.ratePerMinute,
    at: Date.now(),
  });
  // And a start of the same call again: answers the closed meter, charges nothing.
  await meter.start({
    callId: m.callId,
    tenant: m.tenant,
    accountId: m.accountId,
    ratePerMinute: m.ratePerMinute,
  });
}

meter.on('charged', (e) => {
  if (!e.duplicate) out(`charged ${e.callId} ${e.minute}`);
});
meter.on('end', (e) => out(`end ${e.callId} ${e.reason}`));

const ACCOUNTS = ['acc-1', 'acc-2', 'acc-3'];
let next = 0;
let live = 0;

async function place(): Promise<void> {
  if (next >= 40) {
    if (live === 0) {
      out('done');
      process.exit(0);
    }
    return;
  }
  const callId = `r${run}-c${next}`;
  const accountId = ACCOUNTS[next % ACCOUNTS.length] ?? 'acc-1';
  const minutes = 1 + ((next * 7 + run) % 4);
  next += 1;
  const started = await meter.start({ callId, tenant: 'facility', accountId, ratePerMinute: 7 });
  if (!started.ok) {
    out(`refused ${callId} ${started.reason}`);
    setImmediate(() => void place());
    return;
  }
  live += 1;
  const done = () => {
    live -= 1;
    void place();
  };
  const timer = setTimeout(
    () => {
      if (!meter.isRunning(callId)) return done();
      void meter.stop(callId, 'hangup').then(() => {
        out(`end ${callId} hangup`);
        done();
      });
    },
    minutes * minuteMs - Math.floor(minuteMs / 3),
  );
  meter.on('end', (e) => {
    if (e.callId !== callId) return;
    clearTimeout(timer);
    done();
  });
}

out('ready');
for (let i = 0; i < 3; i += 1) void place();
