/** @roamhq/wrtc for the load clients: the testkit's typed loader (`@parley/testkit/wrtc`). */
export * from '@parley/testkit/wrtc';
