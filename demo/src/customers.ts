/** The demo company's customer database: who the visitor is signed in as. */
import type { PrivateClaims } from '@parley/shared/tokens';

export interface DemoCustomer {
  readonly id: string;
  readonly label: string;
  readonly claims: PrivateClaims;
}

export const CUSTOMERS: readonly DemoCustomer[] = [
  {
    id: 'guest',
    label: 'Not signed in',
    claims: {},
  },
  {
    id: 'C-1001',
    label: 'Ada Lovelace (gold customer since 2019)',
    claims: { customerId: 'C-1001', name: 'Ada Lovelace', phone: '+15550000101', tier: 'gold' },
  },
  {
    id: 'C-2002',
    label: 'Bob Example (basic, new)',
    claims: { customerId: 'C-2002', name: 'Bob Example', phone: '+15550000202', tier: 'basic' },
  },
];

export function customerById(id: string | undefined): DemoCustomer {
  return CUSTOMERS.find((c) => c.id === id) ?? CUSTOMERS[0]!;
}
