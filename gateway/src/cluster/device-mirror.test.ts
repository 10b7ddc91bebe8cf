import { describe, expect, it } from 'vitest';
import { DeviceMirror } from './device-mirror.js';

const T = 'acme';
const contact = (uri: string, expiresAt: number, flowId?: string) => ({
  uri,
  expiresAt,
  flowId,
});

describe('DeviceMirror (the cluster’s device presence held by one gateway)', () => {
  it('rings own contacts first, then the others’, each URI once, until each expires', () => {
    const m = new DeviceMirror('gw-a');
    let now = 1_000;
    m.setContacts(T, 'cell-1', [contact('sip:x@10.0.0.2:5060', now + 60_000)], 'gw-b');
    m.setContacts(T, 'cell-1', [
      contact('sip:x@10.0.0.1:5060', now + 30_000, 'flow-1'),
      contact('sip:x@10.0.0.2:5060', now + 30_000, 'flow-2'),
    ]);
    expect(m.contacts(T, 'cell-1', now).map((c) => [c.uri, c.flowId])).toEqual([
      ['sip:x@10.0.0.1:5060', 'flow-1'],
      ['sip:x@10.0.0.2:5060', 'flow-2'],
    ]);
    now += 30_000;
    // Own ones lapsed at their expiry: B's copy of the shared URI is left, without a flow.
    expect(m.contacts(T, 'cell-1', now).map((c) => [c.uri, c.flowId])).toEqual([
      ['sip:x@10.0.0.2:5060', undefined],
    ]);
    now += 30_000;
    expect(m.contacts(T, 'cell-1', now)).toEqual([]);
  });

  it('ends a sign-in at its time, whichever gateway it came through', () => {
    const m = new DeviceMirror('gw-a');
    m.setSignIn(T, 'tab-1', { residentId: 'r-1', until: 5_000, by: 'gw-b', at: 1_000 });
    expect(m.signedIn(T, 'tab-1', 4_999)?.residentId).toBe('r-1');
    expect(m.signedIn(T, 'tab-1', 5_000)).toBeUndefined();
    expect(m.size).toBe(0);
  });

  it('forgets every gateway’s contacts and the sign-in', () => {
    const m = new DeviceMirror('gw-a');
    m.setContacts(T, 'tab-1', [contact('sip:a@h', 9_000, 'f')]);
    m.setContacts(T, 'tab-1', [contact('sip:b@h', 9_000)], 'gw-b');
    m.setSignIn(T, 'tab-1', { residentId: 'r-1', until: 9_000, by: 'gw-b', at: 1 });
    m.forget(T, 'tab-1');
    expect(m.contacts(T, 'tab-1', 0)).toEqual([]);
    expect(m.signedIn(T, 'tab-1', 0)).toBeUndefined();
  });

  it('takes what Redis holds for the others, keeping its own contacts and newer sign-ins', () => {
    const m = new DeviceMirror('gw-a');
    m.setContacts(T, 'cell-1', [contact('sip:a@h', 9_000, 'f')]);
    m.setContacts(T, 'cell-1', [contact('sip:gone@h', 9_000)], 'gw-b');
    m.setContacts(T, 'cell-2', [contact('sip:gone2@h', 9_000)], 'gw-c');
    m.setSignIn(T, 'tab-1', { residentId: 'r-1', until: 9_000, by: 'gw-a', at: 20 });
    m.setSignIn(T, 'tab-2', { residentId: 'r-2', until: 9_000, by: 'gw-b', at: 10 });
    m.setSignIn(T, 'tab-3', { residentId: 'r-3', until: 9_000, by: 'gw-a', at: 10 });
    m.replaceOthers([
      {
        tenant: T,
        address: 'cell-1',
        contacts: new Map([['gw-b', [contact('sip:b@h', 9_000)]]]),
        contactsAt: new Map(),
        signIn: undefined,
        signedOutAt: 0,
      },
      {
        tenant: T,
        address: 'tab-3',
        contacts: new Map(),
        contactsAt: new Map(),
        signIn: { residentId: 'r-9', until: 9_000, by: 'gw-c', at: 30 },
        signedOutAt: 0,
      },
    ]);
    expect(m.contacts(T, 'cell-1', 0).map((c) => c.uri)).toEqual(['sip:a@h', 'sip:b@h']);
    expect(m.contacts(T, 'cell-2', 0)).toEqual([]);
    // Its own sign-in Redis lacks (a lost write) stays; another's it no longer holds goes.
    expect(m.signedIn(T, 'tab-1', 0)?.residentId).toBe('r-1');
    expect(m.signedIn(T, 'tab-2', 0)).toBeUndefined();
    // A later sign-in through another gateway wins over its own older one.
    expect(m.signedIn(T, 'tab-3', 0)?.residentId).toBe('r-9');
    expect(m.ownSignIns().map((o) => o.address)).toEqual(['tab-1']);
  });

  it('keeps a field told since the read was sent, and its own sign-in only if after a sign-out there', () => {
    const m = new DeviceMirror('gw-a');
    m.setContacts(T, 'cell-1', [contact('sip:new@h', 9_000)], 'gw-b');
    m.setSignIn(T, 'tab-1', { residentId: 'r-1', until: 9_000, by: 'gw-a', at: 10 });
    m.replaceOthers(
      [
        {
          tenant: T,
          address: 'cell-1',
          contacts: new Map([['gw-b', [contact('sip:old@h', 9_000)]]]),
          contactsAt: new Map(),
          signIn: undefined,
          signedOutAt: 0,
        },
        {
          tenant: T,
          address: 'tab-1',
          contacts: new Map(),
          contactsAt: new Map(),
          signIn: undefined,
          signedOutAt: 20,
        },
      ],
      (_t, address, field) => address === 'cell-1' && field === 'contacts:gw-b',
    );
    expect(m.contacts(T, 'cell-1', 0).map((c) => c.uri)).toEqual(['sip:new@h']);
    expect(m.signedIn(T, 'tab-1', 0)).toBeUndefined();
  });

  it('forgets, at a time, only what was written before it', () => {
    const m = new DeviceMirror('gw-a');
    m.setContacts(T, 'cell-1', [contact('sip:old@h', 9_000)], 'gw-a', 10);
    m.setContacts(T, 'cell-1', [contact('sip:new@h', 9_000)], 'gw-b', 30);
    m.setSignIn(T, 'cell-1', { residentId: 'r-1', until: 9_000, by: 'gw-b', at: 15 });
    m.forget(T, 'cell-1', 20);
    expect(m.contacts(T, 'cell-1', 0).map((c) => c.uri)).toEqual(['sip:new@h']);
    expect(m.signedIn(T, 'cell-1', 0)).toBeUndefined();
    m.forget(T, 'cell-1', 40);
    expect(m.size).toBe(0);
  });
});
