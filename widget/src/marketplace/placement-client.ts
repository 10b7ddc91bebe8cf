/** `POST /v1/placements` from a publisher's page (docs/marketplace.md, "Placements"). */

export interface PlacedListing {
  readonly slot: number;
  readonly impressionId: string;
  /** The impression sealed by the gateway: what a call button sends back (the bare id is not attributed). */
  readonly reference: string;
  readonly listing: {
    readonly id: string;
    readonly title: string;
    readonly description: string;
    readonly category: string;
    readonly region: string;
  };
  readonly number: string | null;
  readonly numberKind: 'leased' | 'static' | 'none';
  readonly leaseEndsAt: string;
}

export interface Placement {
  readonly placementId: string;
  readonly slots: readonly PlacedListing[];
}

export interface PlacementRequest {
  readonly gateway: string;
  readonly publisher: string;
  readonly category: string;
  readonly region: string;
  readonly slots: number;
  readonly deviceId: string;
  readonly page: string;
}

export class PlacementError extends Error {
  override readonly name = 'PlacementError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function fetchPlacement(
  r: PlacementRequest,
  signal?: AbortSignal,
): Promise<Placement> {
  let response: Response;
  try {
    response = await fetch(new URL('/v1/placements', r.gateway), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        publisher: r.publisher,
        category: r.category,
        region: r.region,
        slots: r.slots,
        deviceId: r.deviceId,
        page: r.page,
      }),
      cache: 'no-store',
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    throw new PlacementError('gateway_unreachable', String(error));
  }
  const body = (await response.json().catch(() => undefined)) as
    (Placement & { error?: { code: string; message: string; detail?: string } }) | undefined;
  if (!response.ok || !body || !Array.isArray(body.slots)) {
    const e = body?.error;
    throw new PlacementError(
      e?.code ?? 'call_failed',
      e?.detail ?? e?.message ?? `HTTP ${response.status}`,
    );
  }
  return body;
}
