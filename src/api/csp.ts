/**
 * Headers for Herald's own HTML pages. The important line is `script-src 'self'`: only script files
 * Herald serves may run, so markup that reaches a page through an event (from any publisher a
 * token, or the no-key/dev rules, let in) cannot run code, not even an `onerror=` attribute.
 * Inline styles stay allowed: htmx adds one, and the feed page marks the visitor's own posts with one.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
}
