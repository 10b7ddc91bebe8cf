import type { VoicemailSettings } from '../config/voicemail.js';
import type { SqliteDatabase } from './database.js';

/** What routing needs of an agent, besides the credentials. */
export interface StoredAgentProfile {
  readonly displayName?: string | undefined;
  readonly queues: readonly string[];
  readonly maxCalls: number;
  readonly tier?: string | undefined;
  readonly skills?: readonly string[] | undefined;
  readonly digestAlgorithms?: readonly ('SHA-256' | 'MD5')[] | undefined;
  readonly contact?: string | undefined;
  /** A telephone number (E.164) called through `trunk` (docs/trunks.md). */
  readonly phone?: string | undefined;
  readonly trunk?: string | undefined;
  /** The agent's own voicemail box (docs/voicemail.md). */
  readonly voicemail?: VoicemailSettings | undefined;
}

/**
 * An agent created through the API. The password is never stored: only the
 * digest H(A1) values for the realm it was set in, which is what a SIP
 * registrar needs (RFC 7616 §3.9.2) and what the desk checks a sign-in against.
 */
export interface StoredAgent {
  readonly id: string;
  readonly tenant: string;
  readonly username: string;
  readonly realm: string;
  readonly ha1: { readonly MD5: string; readonly 'SHA-256': string };
  readonly profile: StoredAgentProfile;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The agent directory's durable part: agents managed through the API. */
export interface AgentStore {
  list(): Promise<StoredAgent[]>;
  get(id: string): Promise<StoredAgent | undefined>;
  /** Creates or replaces the agent (keeps the first createdAt). */
  put(agent: StoredAgent): Promise<void>;
  /** Resolves whether there was such an agent. */
  delete(id: string): Promise<boolean>;
}

export interface AgentRow {
  id: string;
  tenant: string;
  username: string;
  realm: string;
  ha1_md5: string;
  ha1_sha256: string;
  profile: string;
  created_at: number;
  updated_at: number;
}

export const agentFromRow = (row: AgentRow): StoredAgent => ({
  id: row.id,
  tenant: row.tenant,
  username: row.username,
  realm: row.realm,
  ha1: { MD5: row.ha1_md5, 'SHA-256': row.ha1_sha256 },
  profile: JSON.parse(row.profile) as StoredAgentProfile,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export class SqliteAgentStore implements AgentStore {
  readonly #list;
  readonly #get;
  readonly #put;
  readonly #delete;

  constructor(db: SqliteDatabase) {
    this.#list = db.prepare<[], AgentRow>('SELECT * FROM agents ORDER BY tenant, id');
    this.#get = db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE id = ?');
    this.#put = db.prepare(
      `INSERT INTO agents (id, tenant, username, realm, ha1_md5, ha1_sha256, profile, created_at, updated_at)
       VALUES (@id, @tenant, @username, @realm, @ha1_md5, @ha1_sha256, @profile, @created_at, @updated_at)
       ON CONFLICT(id) DO UPDATE SET tenant = excluded.tenant, username = excluded.username,
         realm = excluded.realm, ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256,
         profile = excluded.profile, updated_at = excluded.updated_at`,
    );
    this.#delete = db.prepare('DELETE FROM agents WHERE id = ?');
  }

  async list(): Promise<StoredAgent[]> {
    return this.#list.all().map(agentFromRow);
  }

  async get(id: string): Promise<StoredAgent | undefined> {
    const row = this.#get.get(id);
    return row ? agentFromRow(row) : undefined;
  }

  async put(agent: StoredAgent): Promise<void> {
    this.#put.run(agentParams(agent));
  }

  async delete(id: string): Promise<boolean> {
    return this.#delete.run(id).changes > 0;
  }
}

export function agentParams(agent: StoredAgent): AgentRow {
  return {
    id: agent.id,
    tenant: agent.tenant,
    username: agent.username,
    realm: agent.realm,
    ha1_md5: agent.ha1.MD5,
    ha1_sha256: agent.ha1['SHA-256'],
    profile: JSON.stringify(agent.profile),
    created_at: agent.createdAt,
    updated_at: agent.updatedAt,
  };
}
