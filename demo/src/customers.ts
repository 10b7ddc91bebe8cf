/** The demo company's customer database: who the visitor is signed in as. */
import type { PrivateClaims } from '@parley/shared/tokens';

export interface DemoCustomer {
  readonly id: string;
  readonly label: string;
  readonly claims: PrivateClaims;
  /** What the customer brought the company (its CRM's lifetime value). */
  readonly revenue: number;
  /** What serving them costs (returns, complaints, support minutes). */
  readonly cost: number;
}

export const CUSTOMERS: readonly DemoCustomer[] = [
  {
    id: 'guest',
    label: 'Not signed in',
    claims: {},
    revenue: 0,
    cost: 0,
  },
  {
    id: 'C-1001',
    label: 'Ada Lovelace (gold customer since 2019)',
    claims: { customerId: 'C-1001', name: 'Ada Lovelace', phone: '+15550000101', tier: 'gold' },
    revenue: 4200,
    cost: 300,
  },
  {
    id: 'C-2002',
    label: 'Bob Example (basic, new)',
    claims: { customerId: 'C-2002', name: 'Bob Example', phone: '+15550000202', tier: 'basic' },
    revenue: 60,
    cost: 45,
  },
];

export function customerById(id: string | undefined): DemoCustomer {
  return CUSTOMERS.find((c) => c.id === id) ?? CUSTOMERS[0]!;
}

export function customerByCustomerId(customerId: unknown): DemoCustomer | undefined {
  return CUSTOMERS.find((c) => c.claims.customerId === customerId);
}
