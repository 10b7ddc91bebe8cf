export { ParleyError, isParleyError, type ErrorBody } from './parley-error.js';
export { CodedError } from './coded-error.js';
export { WIDGET_CODES } from './codes/widget.js';
export {
  ERROR_CODES,
  TOKEN_REASONS,
  SCREENING_REASONS,
  isErrorCode,
  humanMessage,
  type ErrorCode,
  type ErrorCodeInfo,
  type ErrorDomain,
  type TokenReason,
  type ScreeningReason,
} from './codes.js';
