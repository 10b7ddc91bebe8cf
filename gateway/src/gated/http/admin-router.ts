/**
 * The facility's API, mounted at `/v1/gated` (every route needs an API key
 * with the `gated` scope; docs/gated.md). The tenant is in the path: a key
 * limited to another tenant, and a tenant that is not gated, get the same 404
 * as one that does not exist, so a key learns nothing of other tenants.
 */
import { Router, type Request, type Response } from 'express';
import { ParleyError } from '@parley/shared/errors';
import { assertScope, canSee, principalOf } from '../../http/api-auth.js';
import { AccountsAdmin } from '../admin/accounts-admin.js';
import { bad, type Actor, type AdminDeps } from '../admin/common.js';
import { DevicesAdmin } from '../admin/devices-admin.js';
import { ResidentsAdmin, residentView } from '../admin/residents-admin.js';

function limitOf(req: Request, fallback = 50): number {
  const raw = req.query['limit'];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw bad('limit: an integer from 1 to 500');
  return n;
}

const text = (req: Request, name: string): string | undefined => {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > 200) throw bad(`${name}: one value`);
  return v;
};

const param = (req: Request, name: string): string => String(req.params[name] ?? '');

export function gatedAdminRouter(deps: AdminDeps): Router {
  const router = Router({ mergeParams: true });
  const residents = new ResidentsAdmin(deps);
  const devices = new DevicesAdmin(deps);
  const accounts = new AccountsAdmin(deps);

  /** The acting key on a tenant it may see and that is gated; else 404 for all alike. */
  const actor = (req: Request, res: Response): Actor => {
    assertScope(res, 'gated');
    const tenant = param(req, 'tenant');
    const principal = principalOf(res);
    if (!canSee(principal, tenant) || deps.tenants[tenant] === undefined)
      throw new ParleyError('not_found', 'no such gated tenant');
    return { tenant, id: `api:${principal?.keyId ?? 'unknown'}` };
  };

  router.get('/:tenant/residents', async (req, res) => {
    const { tenant } = actor(req, res);
    const page = await deps.store.residents.list(tenant, {
      limit: limitOf(req),
      after: text(req, 'after'),
    });
    res.json({ residents: page.items.map(residentView), next: page.next });
  });
  router.put('/:tenant/residents/:id', async (req, res) => {
    const { created, resident } = await residents.put(actor(req, res), param(req, 'id'), req.body);
    res.status(created ? 201 : 200).json(residentView(resident));
  });
  router.get('/:tenant/residents/:id', async (req, res) => {
    res.json(residentView(await residents.get(actor(req, res).tenant, param(req, 'id'))));
  });
  router.delete('/:tenant/residents/:id', async (req, res) => {
    await residents.remove(actor(req, res), param(req, 'id'));
    res.status(204).end();
  });

  router.get('/:tenant/devices', async (req, res) => {
    const { tenant } = actor(req, res);
    const page = await deps.store.devices.list(tenant, {
      limit: limitOf(req),
      after: text(req, 'after'),
    });
    res.json({ devices: page.items.map((d) => devices.view(d)), next: page.next });
  });
  router.put('/:tenant/devices/:address', async (req, res) => {
    const { created, device, credential } = await devices.put(
      actor(req, res),
      param(req, 'address'),
      req.body,
    );
    res
      .status(created ? 201 : 200)
      .json({ ...devices.view(device), ...(credential ? { credential } : {}) });
  });
  router.get('/:tenant/devices/:address', async (req, res) => {
    res.json(devices.view(await devices.get(actor(req, res).tenant, param(req, 'address'))));
  });
  router.delete('/:tenant/devices/:address', async (req, res) => {
    await devices.remove(actor(req, res), param(req, 'address'));
    res.status(204).end();
  });
  router.post('/:tenant/devices/:address/credential', async (req, res) => {
    const credential = await devices.rotate(actor(req, res), param(req, 'address'));
    res.set('cache-control', 'no-store').json({ credential });
  });

  router.get('/:tenant/accounts', async (req, res) => {
    const { tenant } = actor(req, res);
    const page = await deps.store.accounts.list(tenant, {
      limit: limitOf(req),
      after: text(req, 'after'),
    });
    res.json({
      accounts: await Promise.all(page.items.map((a) => accounts.view(a))),
      next: page.next,
    });
  });
  router.post('/:tenant/accounts', async (req, res) => {
    res.status(201).json(await accounts.view(await accounts.create(actor(req, res), req.body)));
  });
  router.get('/:tenant/accounts/:id', async (req, res) => {
    res.json(await accounts.view(await accounts.get(actor(req, res).tenant, param(req, 'id'))));
  });
  router.patch('/:tenant/accounts/:id', async (req, res) => {
    const account = await accounts.update(actor(req, res), param(req, 'id'), req.body);
    res.json(await accounts.view(account));
  });
  router.put('/:tenant/accounts/:id/residents/:residentId', async (req, res) => {
    const { created } = await accounts.setApproval(
      actor(req, res),
      param(req, 'id'),
      param(req, 'residentId'),
      req.body,
    );
    const account = await accounts.get(param(req, 'tenant'), param(req, 'id'));
    res.status(created ? 201 : 200).json(await accounts.view(account));
  });
  router.delete('/:tenant/accounts/:id/residents/:residentId', async (req, res) => {
    await accounts.removeApproval(actor(req, res), param(req, 'id'), param(req, 'residentId'));
    res.status(204).end();
  });
  router.post('/:tenant/accounts/:id/credits', async (req, res) => {
    const result = await accounts.credit(actor(req, res), param(req, 'id'), req.body);
    res.status(result.duplicate ? 200 : 201).json(result);
  });
  router.get('/:tenant/accounts/:id/charges', async (req, res) => {
    const { tenant } = actor(req, res);
    await accounts.get(tenant, param(req, 'id'));
    const charges = await deps.store.billing.accountCharges(tenant, param(req, 'id'), limitOf(req));
    res.json({ charges: charges.map((c) => ({ ...c, at: new Date(c.at).toISOString() })) });
  });

  router.get('/:tenant/decisions', async (req, res) => {
    const { tenant } = actor(req, res);
    const list = await deps.store.decisions.list(tenant, {
      callId: text(req, 'callId'),
      accountId: text(req, 'accountId'),
      limit: limitOf(req),
    });
    res.json({ decisions: list.map((d) => ({ ...d, at: new Date(d.at).toISOString() })) });
  });
  router.get('/:tenant/decisions/:id', async (req, res) => {
    const d = await deps.store.decisions.get(actor(req, res).tenant, param(req, 'id'));
    if (!d) throw new ParleyError('not_found', 'no such decision');
    res.json({ ...d, at: new Date(d.at).toISOString() });
  });

  router.get('/:tenant/audit', async (req, res) => {
    const { tenant } = actor(req, res);
    const before = text(req, 'before');
    if (before !== undefined && !/^\d{1,15}$/.test(before)) throw bad('before: a sequence number');
    const entries = await deps.store.audit.list(tenant, {
      ...(text(req, 'entity') === undefined ? {} : { entity: text(req, 'entity') }),
      ...(text(req, 'entityId') === undefined ? {} : { entityId: text(req, 'entityId') }),
      ...(before === undefined ? {} : { before: Number(before) }),
      limit: limitOf(req),
    });
    res.json({ entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) });
  });

  return router;
}
