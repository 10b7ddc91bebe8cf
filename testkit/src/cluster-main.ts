/**
 * `./scripts/cluster.sh [N]`: Kamailio (deploy/kamailio/) on 127.0.0.2 in
 * front of N gateways (default 3) on this machine, each with one agent
 * (`agent<i>`, password `secret`) that registers with that gateway directly,
 * until Ctrl-C. Prints where everything is and a call token to try.
 *
 * Without `--shared` each gateway keeps its own SQLite file, and an agent is
 * rung only by the gateway it registered with. With `--shared` a PostgreSQL
 * and a Redis (Debian's, started here in a temporary directory) hold the
 * call records and the hot state of all of them (issue 16 item 1): any
 * gateway rings any agent, and a killed gateway's calls are closed by the
 * others.
 */
import { parseArgs } from 'node:util';
import { clusterKeys, startClusterGateway, type ClusterGateway } from './cluster.js';
import { startKamailio } from './kamailio.js';
import { startPostgres } from './postgres.js';
import { startRedis } from './redis.js';
import { stopAll } from './process.js';

const { values } = parseArgs({
  options: {
    edge: { type: 'string', default: '127.0.0.2' },
    shared: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const count = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 3);
const edge = values.edge ?? '127.0.0.2';

const keys = await clusterKeys();
const gateways: ClusterGateway[] = [];
const [postgres, redis] = values.shared
  ? await Promise.all([startPostgres(), startRedis()])
  : [undefined, undefined];
const shared =
  postgres && redis
    ? { postgresUrl: await postgres.createDatabase('parley_cluster'), redisUrl: redis.url }
    : undefined;
try {
  for (let i = 0; i < count; i += 1) {
    // With shared stores every gateway knows every agent (each registers with one of them).
    const agents = shared ? Array.from({ length: count }, (_, j) => `agent${j}`) : [`agent${i}`];
    gateways.push(await startClusterGateway({ name: `gw${i}`, keys, agents, edge, shared }));
  }
  const kamailio = await startKamailio({ gateways: gateways.map((g) => g.sip), host: edge });
  const { token } = await keys.issuer.issue({
    subject: 'cluster-try',
    scope: 'queue:sales',
    origin: 'http://127.0.0.1',
    ttlSeconds: 300,
  });
  const lines = [
    `Kamailio: sip:${kamailio.sip} (UDP), ${kamailio.wsUrl} (SIP over WebSocket)`,
    ...gateways.map(
      (g, i) => `${g.name}: sip:${g.sip}  ${g.httpUrl}  agent agent${i}/secret registers here`,
    ),
    ...(shared ? [`PostgreSQL: ${shared.postgresUrl}`, `Redis: ${shared.redisUrl}`] : []),
    `A call token (queue:sales, five minutes, origin http://127.0.0.1):`,
    token,
    `SIGTERM a gateway's pid to drain it: ${gateways.map((g) => `${g.name}=${g.process.pid}`).join(' ')}`,
    'Ctrl-C stops everything.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await kamailio.stop();
} finally {
  await Promise.all(gateways.map((g) => g.stop()));
  await Promise.all([postgres?.stop(), redis?.stop()]);
  await stopAll();
}
