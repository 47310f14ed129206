/**
 * Text that DocuSign (or whoever answers at the configured host) chose: error descriptions, HTML pages,
 * reason phrases, trace tokens, redirect targets. It is quoted in errors and logs that end up on a
 * terminal, so it must not carry terminal controls: an ANSI/OSC escape in `error_description` could
 * rewrite earlier lines or forge new ones.
 */

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other ESC sequences, and their 8-bit C1 forms.
const ESCAPE_SEQUENCES =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this regex's job.
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b\]|\u009d)[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[P^_X][^\u001b\u009c]*(?:\u001b\\|\u009c)?|\u001b[@-_]?/g;
// C0 controls (tab and newlines included: a quote stays on one line), DEL, C1 controls, and the
// bidirectional overrides that reorder what a terminal shows (CVE-2021-42574, "Trojan Source").
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this regex's job.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with escape sequences removed and every other control character turned into a space. */
export function sanitizeUntrusted(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, "").replace(CONTROLS, " ");
}

/** `sanitizeUntrusted`, with runs of spaces collapsed and at most `max` characters (then "…"). */
export function quoteUntrusted(text: string, max = 200): string {
  const clean = sanitizeUntrusted(text).replace(/\s+/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
