/**
 * The JSON of an HTTP answer's body, read leniently: the client, the console and the tests all
 * meet bodies that are empty (a 204) or not JSON (a proxy's HTML error page, a cut-off body).
 */

/** The value `text` encodes, or undefined when it is empty or not JSON. */
export function answerJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
