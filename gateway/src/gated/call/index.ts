/** The gated call path (docs/gated.md, "The call path"). */
export { GatedCallPath, type GatedCallPathDeps } from './gated-calls.js';
export { GatedCall, calleeOf, type GatedCallDeps } from './gated-call.js';
export { collectDevicePin, say, type DevicePinOptions } from './device-pin.js';
