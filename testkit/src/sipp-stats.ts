/**
 * Parsers for the files sipp 3.6 writes with `-trace_stat` (`-stf`) and
 * `-trace_rtt`. The stat file is `;`-separated with a header row; every
 * counter comes as `(P)` (last period) and `(C)` (cumulative): the last
 * row's cumulative values are the run's totals. Durations are written
 * `HH:MM:SS:uuuuuu`.
 */
export interface SippStats {
  readonly successful: number;
  readonly failed: number;
  /** Calls sipp created (UAC) or accepted (UAS: incoming). */
  readonly created: number;
  readonly incoming: number;
  readonly outgoing: number;
  readonly current: number;
  readonly retransmissions: number;
  readonly failedUnexpectedMessage: number;
  readonly failedTimeoutOnRecv: number;
  readonly failedTimeoutOnSend: number;
  readonly failedMaxUdpRetrans: number;
  readonly failedCallRejected: number;
  readonly failedCannotSendMessage: number;
  readonly failedTcpConnect: number;
  readonly failedRegexp: number;
  readonly outOfCallMessages: number;
  readonly deadCallMessages: number;
  readonly autoAnswered: number;
  readonly warnings: number;
  readonly fatalErrors: number;
  /** Mean of the first response-time measure (`rtd="true"`), cumulative, ms. */
  readonly responseTimeMs: number;
  readonly responseTimeStdDevMs: number;
  /** Mean call length, cumulative, ms. */
  readonly callLengthMs: number;
  readonly elapsedMs: number;
  /** Every column of the last row, by header name. */
  readonly raw: Readonly<Record<string, string>>;
}

export interface SippRttSample {
  /** Milliseconds since sipp started. */
  readonly atMs: number;
  readonly responseTimeMs: number;
  /** Which response-time measure (`rtd="N"`, 1 for `rtd="true"`). */
  readonly rtd: number;
}

/** `HH:MM:SS:uuuuuu` (or `HH:MM:SS`) → milliseconds. */
export function parseSippDuration(text: string | undefined): number {
  if (!text) return 0;
  const parts = text.trim().split(':').map(Number);
  const [h = 0, m = 0, s = 0, us = 0] = parts;
  if (parts.some((p) => Number.isNaN(p))) return 0;
  return ((h * 60 + m) * 60 + s) * 1000 + us / 1000;
}

/** Parses a `-trace_stat` file; undefined when it holds no data row yet. */
export function parseSippStats(csv: string): SippStats | undefined {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim().length > 0);
  const header = lines[0]?.split(';');
  const last = lines.length > 1 ? lines[lines.length - 1]?.split(';') : undefined;
  if (!header || !last) return undefined;
  const raw: Record<string, string> = {};
  header.forEach((name, i) => {
    if (name) raw[name] = last[i]?.trim() ?? '';
  });
  const n = (name: string): number => {
    const value = Number(raw[`${name}(C)`] ?? raw[name] ?? '0');
    return Number.isFinite(value) ? value : 0;
  };
  const regexp =
    n('FailedRegexpDoesntMatch') + n('FailedRegexpShouldntMatch') + n('FailedRegexpHdrNotFound');
  return {
    successful: n('SuccessfulCall'),
    failed: n('FailedCall'),
    created: n('TotalCallCreated'),
    incoming: n('IncomingCall'),
    outgoing: n('OutgoingCall'),
    current: n('CurrentCall'),
    retransmissions: n('Retransmissions'),
    failedUnexpectedMessage: n('FailedUnexpectedMessage'),
    failedTimeoutOnRecv: n('FailedTimeoutOnRecv'),
    failedTimeoutOnSend: n('FailedTimeoutOnSend'),
    failedMaxUdpRetrans: n('FailedMaxUDPRetrans'),
    failedCallRejected: n('FailedCallRejected'),
    failedCannotSendMessage: n('FailedCannotSendMessage'),
    failedTcpConnect: n('FailedTcpConnect'),
    failedRegexp: regexp,
    outOfCallMessages: n('OutOfCallMsgs'),
    deadCallMessages: n('DeadCallMsgs'),
    autoAnswered: n('AutoAnswered'),
    warnings: n('Warnings'),
    fatalErrors: n('FatalErrors'),
    responseTimeMs: parseSippDuration(raw['ResponseTime1(C)']),
    responseTimeStdDevMs: parseSippDuration(raw['ResponseTime1StDev(C)']),
    callLengthMs: parseSippDuration(raw['CallLength(C)']),
    elapsedMs: parseSippDuration(raw['ElapsedTime(C)']),
    raw,
  };
}

/** Parses a `-trace_rtt` file (`Date_ms;response_time_ms;rtd_no`). */
export function parseSippRtt(csv: string): SippRttSample[] {
  const samples: SippRttSample[] = [];
  for (const line of csv.split(/\r?\n/)) {
    const [at, rt, rtd] = line.split(';');
    if (at === undefined || rt === undefined || !/^[0-9.]+$/.test(at.trim())) continue;
    samples.push({ atMs: Number(at), responseTimeMs: Number(rt), rtd: Number(rtd ?? 1) });
  }
  return samples;
}

/** All-zero stats, for a sipp that died before writing a row. */
export function emptySippStats(): SippStats {
  const stats = parseSippStats('SuccessfulCall(C)\n0');
  if (!stats) throw new Error('unreachable');
  return { ...stats, raw: {} };
}
