export { ParleyError, isParleyError, type ErrorBody } from './parley-error.js';
export {
  ERROR_CODES,
  TOKEN_REASONS,
  SCREENING_REASONS,
  isErrorCode,
  humanMessage,
  type ErrorCode,
  type ErrorCodeInfo,
  type TokenReason,
  type ScreeningReason,
} from './codes.js';
