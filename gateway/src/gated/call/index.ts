/** The gated call path (docs/gated.md, "The call path"). */
export { GatedCallPath, type GatedCallPathDeps } from './gated-calls.js';
export { GatedCall, type GatedCallDeps } from './gated-call.js';
export { calleeOf } from './callee.js';
export { collectDevicePin, say, type DevicePinOptions } from './device-pin.js';
