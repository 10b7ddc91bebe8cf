import { describe, expect, it } from 'vitest';

import { agentFormat } from './baresip-config.js';

describe('agentFormat', () => {
  it('is the clock rate and channels the codecs share', () => {
    expect(agentFormat(['PCMU', 'PCMA'])).toEqual({ rate: 8000, channels: 1 });
    expect(agentFormat(['opus/48000/2'])).toEqual({ rate: 48000, channels: 2 });
    expect(agentFormat(['G722'])).toEqual({ rate: 16000, channels: 1 });
  });

  it('refuses codecs of different clock rates (aufile does not resample)', () => {
    expect(() => agentFormat(['opus/48000/2', 'PCMU'])).toThrow(/opus\/48000\/2 and PCMU/);
    expect(() => agentFormat([])).toThrow(/must not be empty/);
  });
});
