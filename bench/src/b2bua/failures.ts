/** Why a sipp run's calls failed: the responses sipp aborted on, its counters, the gateway's records of those calls. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SippResult } from '@parley/testkit';
import { REPO_ROOT } from '../bench-gateway.js';
import { which } from '../sipp-pinning.js';
import type { FailureSummary } from './results.js';

const sqlite3 = which('sqlite3');

export interface FailureFiles {
  /** Where sipp's -trace_err text goes (under the repository), when there is any. */
  readonly errorsFile: string;
  /** The gateway's SQLite file. */
  readonly database: string;
}

/** Counts the responses sipp aborted calls on, from its -trace_err file. */
export function summarizeFailures(result: SippResult, files: FailureFiles): FailureSummary {
  const responses: Record<string, number> = {};
  const chunks = result.errors.split("received '").slice(1);
  for (const chunk of chunks) {
    const message = chunk.split("'.")[0] ?? chunk;
    const status = /^SIP\/2\.0 (\d{3}[^\r\n]*)/.exec(message)?.[1]?.trim();
    if (!status) continue;
    const reason = /^Reason:\s*([^\r\n]*)/im.exec(message)?.[1]?.trim();
    const key = reason ? `${status} — Reason: ${reason}` : status;
    responses[key] = (responses[key] ?? 0) + 1;
  }
  const s = result.stats;
  const counters = Object.fromEntries(
    Object.entries({
      failedUnexpectedMessage: s.failedUnexpectedMessage,
      failedTimeoutOnRecv: s.failedTimeoutOnRecv,
      failedTimeoutOnSend: s.failedTimeoutOnSend,
      failedMaxUdpRetrans: s.failedMaxUdpRetrans,
      failedCallRejected: s.failedCallRejected,
      failedCannotSendMessage: s.failedCannotSendMessage,
      outOfCallMessages: s.outOfCallMessages,
      deadCallMessages: s.deadCallMessages,
    }).filter(([, v]) => v > 0),
  );
  let errorsFile: string | undefined;
  if (result.errors.length > 0) {
    mkdirSync(dirname(files.errorsFile), { recursive: true });
    errorsFile = files.errorsFile;
    writeFileSync(errorsFile, result.errors.slice(0, 2_000_000));
  }
  const failedCallIds = [
    ...new Set(
      [
        ...result.errors.matchAll(
          /Call-I[dD]:? '?([^\s',]+@[^\s',]+)'?,? (?:receive timeout|while expecting)/g,
        ),
      ].map((m) => m[1] ?? ''),
    ),
  ].filter(Boolean);
  const gatewayRecords = callRecords(files.database, failedCallIds.slice(0, 12));
  return {
    responses,
    counters,
    excerpt: result.errors.slice(0, 1500),
    ...(gatewayRecords ? { gatewayRecords } : {}),
    ...(errorsFile ? { errorsFile: errorsFile.slice(REPO_ROOT.length) } : {}),
  };
}

/** The gateway's records of these visitor Call-IDs, read with the sqlite3 CLI (read-only) when it is there. */
function callRecords(
  database: string,
  visitorCallIds: readonly string[],
): Record<string, unknown>[] | undefined {
  if (visitorCallIds.length === 0 || !sqlite3) return undefined;
  const list = visitorCallIds.map((id) => `'${id.replace(/'/g, "''")}'`).join(',');
  const sql =
    'SELECT visitor_call_id, created_at, state, outcome, reason, ended_by, sip_status, agent_id, ' +
    'ringing_at - created_at AS ringing_after_ms, answered_at - created_at AS answered_after_ms, ' +
    'ended_at - created_at AS ended_after_ms, attempts ' +
    `FROM calls WHERE visitor_call_id IN (${list}) ORDER BY created_at`;
  try {
    const out = execFileSync(sqlite3, ['-readonly', '-json', database, sql], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    const rows = (out.trim() ? JSON.parse(out) : []) as Record<string, unknown>[];
    return rows.map((row) => {
      const { created_at: created, attempts: text, ...rest } = row;
      let attempts: unknown = text;
      try {
        // Agent legs: when each started and ended, in ms after the visitor's INVITE.
        attempts = (JSON.parse(String(text)) as Record<string, unknown>[]).map(
          ({ startedAt, endedAt, ...a }) => ({
            ...a,
            startedAfterMs: Number(startedAt) - Number(created),
            ...(endedAt ? { endedAfterMs: Number(endedAt) - Number(created) } : {}),
          }),
        );
      } catch {
        // Leave the text as it is.
      }
      return { ...rest, attempts };
    });
  } catch (error) {
    return [{ error: (error as Error).message.slice(0, 300) }];
  }
}
