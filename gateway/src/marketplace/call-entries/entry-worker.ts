/**
 * The call entries' worker thread (`worker-chunk-match.ts` starts it): its
 * own connection to the gateway's SQLite file, with the gateway's pragmas and
 * no migrations (the gateway's connection ran them), and the chunk's
 * transaction (`SqliteChunkTransaction`) run for each chunk it is sent, one at
 * a time, in the order sent. Kept small: it loads the database and the
 * transaction, nothing of the gateway else.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connectDatabase } from '../../storage/database.js';
import { SqliteChunkTransaction } from './sqlite-chunk-match.js';
import type { ChunkReply, ChunkRequest, EntryWorkerData } from './worker-chunk-match.js';

const data = workerData as EntryWorkerData;
const db = connectDatabase(data.path, { cacheMb: data.cacheMb });
const transaction = new SqliteChunkTransaction(db);
const port = parentPort;
if (!port) throw new Error('entry-worker.ts runs as a worker thread');

port.on('message', (m: ChunkRequest) => {
  let reply: ChunkReply;
  try {
    const outcomes = transaction.run(m.tenant, m.rows, m.threshold, m.now);
    reply = { id: m.id, outcomes };
  } catch (error) {
    reply = { id: m.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
