/**
 * Page origins (RFC 6454): `scheme://host[:port]`, compared after the WHATWG URL
 * parser has normalised them (lower-case host, IDN to punycode, default port
 * dropped), so `https://Shop.Example:443` and `https://shop.example` are the same.
 */

/**
 * The serialised origin of `text`, or `undefined` when `text` is not an http(s)
 * origin. With `allowTrailingSlash` (for configuration) `https://shop.example/`
 * is accepted too; a path, query, fragment or credentials never are.
 */
export function normaliseOrigin(text: string, allowTrailingSlash = false): string | undefined {
  if (text.length === 0 || text.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password || url.search || url.hash) return undefined;
  // `new URL('https://a.example?')` has an empty search but the input had a `?`.
  if (/[?#]/.test(text)) return undefined;
  const hasPath = allowTrailingSlash
    ? /^[a-z]+:\/\/[^/]+\/./i.test(text)
    : /^[a-z]+:\/\/[^/]+\//i.test(text);
  if (hasPath || url.pathname !== '/') return undefined;
  return url.origin;
}
