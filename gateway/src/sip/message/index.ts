/**
 * The SIP message layer (RFC 3261 §7, §19, §20, §25): parsing, writing and building
 * messages, the structured header values, stream framing and Digest authentication.
 * No I/O, no dependencies beyond node:crypto and @parley/shared/errors.
 */
export { SipParseError, isSipParseError, type SipParseStatus } from './sip-parse-error.js';
export { SipHeaders, type HeaderLine, type SipHeadersInit } from './sip-headers.js';
export {
  SipMessage,
  SipRequest,
  SipResponse,
  type SipRequestInit,
  type SipResponseInit,
} from './sip-message.js';
export {
  parseMessage,
  readOversized,
  DEFAULT_MAX_MESSAGE_BYTES,
  type ParseOptions,
} from './parse-message.js';
export { validateMessage, isCallId, type ValidateOptions } from './validate.js';
export { serialize } from './serialize.js';
export {
  createResponse,
  reasonPhrase,
  REASON_PHRASES,
  type CreateResponseOptions,
} from './create-response.js';
export { generateBranch, generateTag, generateCallId } from './ids.js';
export {
  SipStreamDecoder,
  type SipStreamEvent,
  type SipStreamDecoderOptions,
} from './stream-decoder.js';
export {
  parseUri,
  formatUri,
  isSipUri,
  isTelUri,
  unescapeUri,
  type Uri,
  type UriInit,
  type SipUri,
  type TelUri,
  type AbsoluteUri,
  type UriHeaders,
} from './uri.js';
export { parseNameAddr, formatNameAddr, type NameAddr, type NameAddrInit } from './name-addr.js';
export {
  parseVia,
  formatVia,
  isRfc3261Branch,
  MAGIC_COOKIE,
  type Via,
  type ViaInit,
} from './via.js';
export { parseCSeq, formatCSeq, MAX_CSEQ, type CSeq } from './cseq.js';
export { getParam, hasParam, withParam, type Param, type Params } from './params.js';
export { headerKey, canonicalName, isListHeader } from './header-names.js';
export { quote, unquote } from './lexer.js';
export {
  parseAuthHeader,
  parseDigestChallenge,
  parseDigestCredentials,
  formatDigestChallenge,
  formatDigestCredentials,
  computeDigestResponse,
  verifyDigestResponse,
  answerDigestChallenge,
  digestHa1,
  digestUserhash,
  type AuthHeader,
  type DigestAlgorithm,
  type DigestChallenge,
  type DigestCredentials,
  type DigestInput,
  type DigestSecret,
  type AnswerOptions,
} from './digest.js';
export { checkAgentContact, agentContactUri } from './agent-contact.js';
