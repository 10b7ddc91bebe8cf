/** What every error code says about itself: the shape of an entry of ERROR_CODES. */
export interface ErrorCodeInfo {
  /** Which layer raises it (the file under `codes/` it is written in). */
  readonly domain: ErrorDomain;
  readonly http: number;
  readonly sip: number;
  /** For developers and logs. */
  readonly message: string;
  /** For the visitor, shown by the widget. */
  readonly human: string;
}

export type ErrorDomain =
  | 'token'
  | 'screening'
  | 'call'
  | 'trunk'
  | 'callback'
  | 'flow'
  | 'gated'
  | 'request'
  | 'widget'
  | 'speech'
  | 'config';

/** The codes of one domain's file: each entry must name that domain. */
export type DomainCodes<D extends ErrorDomain> = Record<
  string,
  ErrorCodeInfo & { readonly domain: D }
>;

export const TRY_AGAIN = 'Please reload the page and try again.';
